"""The study's pictures, drawn from ``answers.json`` (the sweep's comparisons as data): each
backbone's value and 95 % interval per task (a forest plot), the paired differences to the top
backbone, every backbone's gap to each task's best, and every variant against its size.

Values are compared on shared axes; every axis and mark is labelled; the best backbone is marked
only where it is separably ahead of every other; variants without a result are shown as such.
Each mark carries an id (``mark:<task>:<backbone>``) that the SVG keeps."""

from __future__ import annotations

from typing import Any

from .drawing import figure, plain_log_axis

BEST, TIED, BEHIND, MISSING = "#1a7f37", "#0969da", "#57606a", "#cf222e"


def _no_result(task: str, variants: list[dict[str, Any]]) -> dict[str, list[str]]:
    """Per backbone of ``task``, the states of its variants without a result."""
    found: dict[str, list[str]] = {}
    for variant in variants:
        if variant["task"] == task and variant["state"] != "done":
            found.setdefault(variant["backbone"], []).append(variant["state"])
    return found


def _unit_range(values: list[float]) -> bool:
    return all(0 <= v <= 1 for v in values)


def _error(item: dict[str, Any]) -> list[list[float]]:
    if item["low"] is None or item["high"] is None:
        return [[0.0], [0.0]]
    return [[max(0.0, item["value"] - item["low"])], [max(0.0, item["high"] - item["value"])]]


def _ahead(difference: dict[str, Any], higher_is_better: bool) -> dict[str, Any]:
    """A difference (top − other) as how far the top is ahead: negated where lower is better."""
    if higher_is_better:
        return difference
    flip = lambda v: None if v is None else -v  # noqa: E731
    return {"value": -difference["value"], "low": flip(difference["high"]), "high": flip(difference["low"])}


def _rows(ax, labels: list[str], title: str) -> None:
    ax.set_yticks(range(len(labels)), labels)
    ax.set_ylim(-0.7, len(labels) - 0.3)
    ax.invert_yaxis()
    ax.set_title(title, loc="left")


def forest(tasks: list[dict[str, Any]], variants: list[dict[str, Any]]):
    """One panel per task, one row per backbone (best first), sharing the value axis where every
    task's values are in [0, 1]; a dashed chance line; ★ the separably best; red: no result."""
    values = [v for t in tasks for c in t["cells"] for v in (c["value"], c["low"], c["high"], c["chance"]) if v is not None]
    heights = [max(1, len(t["cells"]) + len(_no_result(t["task"], variants))) for t in tasks] or [1]
    fig, axes = figure(len(heights), 1, figsize=(6.4, 0.9 + 0.32 * sum(heights) + 0.5 * len(heights)), squeeze=False,
                       sharex=_unit_range(values), gridspec_kw={"height_ratios": heights})
    for ax, task in zip(axes[:, 0], tasks):
        failed = {b: s for b, s in _no_result(task["task"], variants).items() if b not in {c["backbone"] for c in task["cells"]}}
        labels = []
        for row, cell in enumerate(task["cells"]):
            best = cell["backbone"] == task["best"]
            colour = BEST if best else (BEHIND if cell["standing"] == "behind" else TIED)
            bar = ax.errorbar(cell["value"], row, xerr=_error(cell), fmt="*" if best else "o", markersize=10 if best else 5, color=colour, capsize=3)
            bar.lines[0].set_gid(f"mark:{task['task']}:{cell['backbone']}")
            labels.append(("★ " if best else "") + cell["backbone"] + (" ⚠" if cell["warning"] else ""))
        for row, (backbone, states) in enumerate(sorted(failed.items()), start=len(labels)):
            ax.text(0.02, row, f"no result ({', '.join(sorted(set(states)))})", color=MISSING, va="center", transform=ax.get_yaxis_transform())
            labels.append(backbone)
        _rows(ax, labels, task["task"] + ("" if task["best"] else ": no backbone separably best"))
        for tick in ax.get_yticklabels()[len(task["cells"]):]:
            tick.set_color(MISSING)
        chance = next((c["chance"] for c in task["cells"] if c["chance"] is not None), None)
        if chance is not None:
            ax.axvline(chance, color="gray", linestyle="--", linewidth=1, label=f"chance {chance:.2f}")
            ax.legend(loc="lower right", frameon=False)
        ax.set_xlabel(f"{task['metric'] or 'headline metric'} (95 % interval; {'higher' if task['higher_is_better'] else 'lower'} is better)")
        ax.set_ylabel("backbone")
        ax.xaxis.set_tick_params(labelbottom=True)
    if not tasks:
        axes[0][0].set_title("no results yet")
    fig.tight_layout()
    return fig


def differences(tasks: list[dict[str, Any]]):
    """Per task, the paired difference of the top backbone to each other one, with its interval
    and the zero line: a backbone is behind only where its interval excludes 0. None where no task
    has two backbones (the answer says there is nothing to compare)."""
    shown = [t for t in tasks if t["differences"]]
    if not shown:
        return None
    fig, axes = figure(len(shown), 1, figsize=(6.4, 0.9 + sum(0.32 * len(t["differences"]) + 0.6 for t in shown)), squeeze=False)
    for ax, task in zip(axes[:, 0], shown):
        for row, item in enumerate(task["differences"]):
            colour = BEHIND if item["separable"] else TIED
            ahead = _ahead(item, task["higher_is_better"])
            bar = ax.errorbar(ahead["value"], row, xerr=_error(ahead), fmt="o", color=colour, capsize=3)
            bar.lines[0].set_gid(f"difference:{task['task']}:{item['backbone']}")
        _rows(ax, [f"{d['to']} − {d['backbone']}" + ("  (separable)" if d["separable"] else "") for d in task["differences"]], task["task"])
        ax.axvline(0, color="black", linewidth=1)
        ax.set_xlabel(f"how far ahead the top backbone is, in {task['metric'] or 'metric'} (paired 95 % interval; excludes 0: separable)")
        ax.set_ylabel("pair")
    fig.tight_layout()
    return fig


def gaps(tasks: list[dict[str, Any]]):
    """Question 3: each backbone's distance to each task's best, in points, one colour a task
    (0: the best, or not separable from it where its marker is hollow). None for fewer than two
    backbones: every distance would be 0."""
    backbones = sorted({c["backbone"] for t in tasks for c in t["cells"]})
    if len(backbones) < 2:
        return None
    fig, ax = figure(figsize=(6.4, 1.0 + 0.45 * max(1, len(backbones))))
    offsets = {t["task"]: (i - (len(tasks) - 1) / 2) * 0.8 / max(1, len(tasks)) for i, t in enumerate(tasks)}
    for index, task in enumerate(tasks):
        if not task["cells"]:
            continue
        top = task["cells"][0]["value"]
        for cell in task["cells"]:
            gap = abs(top - cell["value"]) * 100
            hollow = cell["standing"] in ("tied", "best", "alone")
            ax.plot(gap, backbones.index(cell["backbone"]) + offsets[task["task"]], "o", color=f"C{index % 10}",
                    markerfacecolor="white" if hollow else f"C{index % 10}", gid=f"gap:{task['task']}:{cell['backbone']}",
                    label=task["task"] if cell is task["cells"][0] else None)
    _rows(ax, backbones, "distance to each task's best")
    ax.set_xlabel("points behind the task's best (hollow: the best or not separable from it)")
    ax.set_ylabel("backbone")
    if any(t["cells"] for t in tasks):
        ax.legend(loc="lower right", frameon=False)
    fig.tight_layout()
    return fig


def parameters(variants: list[dict[str, Any]]):
    """Every variant's value against its parameters: a colour per task, a labelled marker per
    backbone, the seeds of one cell side by side; variants without a result listed below."""
    done = [v for v in variants if v["state"] == "done" and v["value"] is not None and v["parameters_m"]]
    tasks = sorted({v["task"] for v in variants})
    backbones = sorted({v["backbone"] for v in variants})
    fig, ax = figure(figsize=(6.4, 4.0))
    groups: dict[tuple, list[dict[str, Any]]] = {}
    for v in done:
        groups.setdefault((v["task"], v["backbone"], v["setting"]), []).append(v)
    for (task, backbone, _), members in groups.items():
        colour, marker = f"C{tasks.index(task) % 10}", "osD^vP*Xh<>"[backbones.index(backbone) % 11]
        for k, v in enumerate(sorted(members, key=lambda m: str(m["seed"]))):
            x = v["parameters_m"] * (1 + 0.06 * (k - (len(members) - 1) / 2))  # seeds side by side
            ax.errorbar(x, v["value"], yerr=_error(v), fmt=marker, color=colour, capsize=2, markersize=5)
        ax.annotate(backbone, (members[0]["parameters_m"], members[0]["value"]), textcoords="offset points", xytext=(6, 4), fontsize=7)
    for index, task in enumerate(tasks):
        ax.plot([], [], "s", color=f"C{index % 10}", label=task)
        chance = next((v["chance"] for v in done if v["task"] == task and v["chance"] is not None), None)
        if chance is not None:
            ax.axhline(chance, color=f"C{index % 10}", linestyle="--", linewidth=1)
    if done:
        ax.set_xscale("log")
        plain_log_axis(ax.xaxis)
        ax.legend(loc="best", frameon=False, title="task (dashed: chance)")
    ax.set_xlabel("parameters (millions)")
    ax.set_ylabel("headline metric (95 % interval)")
    missing = [f"{v['variant']}: {v['state']}" for v in variants if v not in done]
    if missing:
        ax.set_title("no result: " + "; ".join(missing[:6]) + (f"; and {len(missing) - 6} more" if len(missing) > 6 else ""), color=MISSING, fontsize=7, loc="left", wrap=True)
    fig.tight_layout()
    return fig
