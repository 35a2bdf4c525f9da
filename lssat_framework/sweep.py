"""Sweeps: the cartesian product of ``sweep:`` axes, one run directory per variant, and a
leaderboard that answers the study's three questions.

An axis is a dotted spec path with a list of values (``backbone.name: [a, b]``), or a named group
whose variants each set several keys together::

    configuration:
      MRGB-RLDP-CRGB: {ssl.params.mask: rgb, ssl.params.reconstruct: [ldp], classify: rgb}

An axis whose keys lie under ``backbone`` says which backbone a variant uses; one with keys under
``task`` or ``data`` says which task; any other axis is a setting. ``answers.md`` compares the
backbones per task, averaging over the settings.
"""

from __future__ import annotations

import copy
import csv
import itertools
import json
import re
from pathlib import Path
from typing import Any

from .errors import SpecError
from .images import pyplot
from .spec import ResolvedSpec, set_dotted, validate_spec

#: a backbone within this many points (headline metric × 100) of the best counts as near-best
NEAR_BEST_POINTS = 1.0


def _slug(label: str) -> str:
    """A value's label (see :func:`_label`) made safe for a directory name."""
    return re.sub(r"[^A-Za-z0-9_.+-]+", "-", label).strip("-") or "x"


def axis_kind(key: str, values: Any) -> str:
    """``backbone``, ``task`` or ``setting``: what an axis varies."""
    keys = [k for variant in values.values() for k in variant] if isinstance(values, dict) else [key]
    if keys and all(k.split(".")[0] == "backbone" for k in keys):
        return "backbone"
    if keys and any(k.split(".")[0] in ("task", "data") for k in keys):
        return "task"
    return "setting"


def expand(resolved: ResolvedSpec) -> list[tuple[str, dict[str, Any], ResolvedSpec]]:
    """``(directory name, {axis: value label}, validated spec)`` for every variant; all are
    validated before any runs, and every problem of every variant is reported at once."""
    sweep = resolved.spec.sweep or {}
    base = {k: v for k, v in resolved.raw.items() if k != "sweep"}
    axes = []
    for key, values in sweep.items():
        if isinstance(values, dict):  # a named group: each variant sets several keys
            axes.append([(key, name, dict(overrides)) for name, overrides in values.items()])
        else:
            axes.append([(key, _label(value), {key: value}) for value in values])
    variants, problems = [], []
    for combo in itertools.product(*axes):
        choice = {key: label for key, label, _ in combo}
        raw = copy.deepcopy(base)
        for _, _, overrides in combo:
            for key, value in overrides.items():
                set_dotted(raw, key, value)
        name = "__".join(f"{key.split('.')[-1]}={_slug(label)}" for key, label in choice.items())
        raw["name"] = f"{base['name']}__{name}"
        try:
            variants.append((name, choice, validate_spec(raw, source=resolved.source)))
        except SpecError as exc:
            problems += [(f"sweep[{name}] {path}", message) for path, message in exc.problems]
    if problems:
        raise SpecError(problems, source=resolved.source)
    return variants


def run_sweep(resolved: ResolvedSpec, out: str | Path | None = None) -> dict[str, Any]:
    """Run every variant not finished yet; a variant with a checkpoint resumes from it."""
    from .train import find_checkpoint, train

    out_dir = Path(out) if out else Path("runs") / resolved.spec.name
    variants = expand(resolved)
    rows = []
    for index, (name, choice, variant) in enumerate(variants, start=1):
        run_dir = out_dir / name
        if (run_dir / "summary.json").is_file():
            print(f"[{index}/{len(variants)}] {name}: finished, skipped")
        else:
            started = find_checkpoint(run_dir / "checkpoints" / "last") is not None
            print(f"[{index}/{len(variants)}] {name}: {'resuming' if started else 'running'}")
            train(variant, run_dir, resume=started)
        summary = json.loads((run_dir / "summary.json").read_text())
        rows.append({"variant": name, **choice, **_row(summary)})
    kinds = {key: axis_kind(key, values) for key, values in resolved.spec.sweep.items()}
    write_leaderboard(out_dir, kinds, rows)
    return {"variants": len(rows), "out": str(out_dir)}


def _label(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _row(summary: dict[str, Any]) -> dict[str, Any]:
    headline = summary["headline"]
    return {
        "task": summary["task"],
        "metric": headline,
        "value": summary["final"].get(headline),
        "best_value": (summary.get("best") or {}).get("value"),
        "parameters_m": round(summary["parameters"] / 1e6, 3),
        "images_per_s": round(summary["images_per_s"], 1),
        "peak_mem_mb": round(summary["peak_mem_mb"], 1),
    }


def write_leaderboard(out_dir: Path, kinds: dict[str, str], rows: list[dict[str, Any]]) -> None:
    """``kinds``: each sweep axis and what it varies (see :func:`axis_kind`)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    keys = list(kinds)
    rows = sorted(rows, key=lambda r: (r["task"], -(r["value"] if r["value"] is not None else float("-inf"))))
    columns = ["variant", *keys, "task", "metric", "value", "best_value", "parameters_m", "images_per_s", "peak_mem_mb"]
    with open(out_dir / "leaderboard.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    fmt = lambda v: f"{v:.4f}" if isinstance(v, float) else ("" if v is None else str(v))  # noqa: E731
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(fmt(row.get(c)) for c in columns) + " |" for row in rows]
    (out_dir / "leaderboard.md").write_text("\n".join(lines) + "\n")

    backbone_keys = [k for k in keys if kinds[k] == "backbone"]
    task_keys = [k for k in keys if kinds[k] == "task"]
    label = lambda row, ks: " ".join(row[k] for k in ks)  # noqa: E731
    for row in rows:
        row["_backbone"] = label(row, backbone_keys) or "backbone"
        row["_task"] = f"{label(row, task_keys) or row['task']} ({row['metric']})"
    table = _mean_table(rows)
    _plot_per_backbone(table, out_dir / "metric_per_backbone.png")
    _plot_vs_parameters(rows, out_dir / "metric_vs_parameters.png")
    (out_dir / "answers.md").write_text(answers(table))


def _mean_table(rows) -> dict[str, dict[str, float]]:
    """task -> backbone -> headline value averaged over the other sweep keys (settings)."""
    sums: dict[str, dict[str, list[float]]] = {}
    for row in rows:
        if row["value"] is not None:
            sums.setdefault(row["_task"], {}).setdefault(row["_backbone"], []).append(row["value"])
    return {task: {b: sum(v) / len(v) for b, v in by.items()} for task, by in sums.items()}


def answers(table: dict[str, dict[str, float]]) -> str:
    lines = ["# What the sweep answers", ""]
    lines += ["## 1. How much does the backbone matter, per task?", ""]
    for task, scores in table.items():
        spread = (max(scores.values()) - min(scores.values())) * 100
        lines.append(f"- {task}: the backbones span {spread:.1f} points ({len(scores)} backbones).")
    lines += ["", "## 2. Which backbone is best for each task?", ""]
    for task, scores in table.items():
        best = max(scores, key=scores.get)
        lines.append(f"- {task}: **{best}** ({scores[best]:.4f}).")
    lines += ["", "## 3. Is one backbone best, or near-best, on all tasks?", ""]
    backbones = sorted({b for scores in table.values() for b in scores})
    gaps = {}
    for backbone in backbones:
        behind = [(max(s.values()) - s[backbone]) * 100 for s in table.values() if backbone in s]
        if len(behind) == len(table):
            gaps[backbone] = max(behind)
    if not gaps:
        lines.append("- No backbone ran on every task.")
    else:
        best = min(gaps, key=gaps.get)
        if gaps[best] == 0:
            verdict = f"Yes: **{best}** is the best on every task."
        elif gaps[best] <= NEAR_BEST_POINTS:
            verdict = f"Nearly: **{best}** is at most {gaps[best]:.1f} points behind the best on every task (near-best = within {NEAR_BEST_POINTS:.0f} point)."
        else:
            verdict = f"No: the most consistent backbone, **{best}**, is up to {gaps[best]:.1f} points behind the best on some task."
        lines.append(f"- {verdict}")
        lines += ["", "| backbone | largest gap to the best (points) |", "|---|---|"]
        lines += [f"| {b} | {g:.1f} |" for b, g in sorted(gaps.items(), key=lambda kv: kv[1])]
    lines += ["", "Scores are each task's headline metric on the validation split, averaged over the other sweep keys.", ""]
    return "\n".join(lines)


def _plot_per_backbone(table, path: Path) -> None:
    plt = pyplot()
    tasks = list(table)
    backbones = sorted({b for scores in table.values() for b in scores})
    fig, axes = plt.subplots(1, max(1, len(tasks)), figsize=(1.5 + 1.2 * len(backbones) * max(1, len(tasks)), 3.5), squeeze=False)
    for ax, task in zip(axes[0], tasks):
        values = [table[task].get(b, float("nan")) for b in backbones]
        ax.bar(range(len(backbones)), values, color="tab:blue")
        ax.set_xticks(range(len(backbones)), backbones, rotation=30, ha="right", fontsize=8)
        ax.set_title(task, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _plot_vs_parameters(rows, path: Path) -> None:
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5, 3.5))
    for task in sorted({r["_task"] for r in rows}):
        points = [(r["parameters_m"], r["value"]) for r in rows if r["_task"] == task and r["value"] is not None]
        ax.scatter([p for p, _ in points], [v for _, v in points], label=task)
    ax.set_xscale("log")
    ax.set_xlabel("parameters (millions)")
    ax.set_ylabel("headline metric")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
