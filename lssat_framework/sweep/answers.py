"""The study's three questions answered with their uncertainty, and the two plots.

Each finished variant brings its headline metric, the bootstrap 95 % interval of that metric over
the evaluated samples (videos where the task has them) and its chance level (``summary.json``).
A cell (task, backbone) averages its variants over the settings and seeds; its interval is:

* one variant: the variant's own bootstrap interval;
* several: mean ± 1.96·se, with se² the sum over settings of (the bootstrap variances of the
  seeds' runs, each half-width / 1.96, squared, over n² + the seeds' variance over n), over K²
  for K settings. Seeds thus add their spread; without seeds only the sampling error counts.

A backbone is called best only where its interval clears the runner-up's; otherwise the answer
says the backbones are not separable at this size.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from pathlib import Path

Z95 = 1.959964


@dataclass
class Run:
    task: str
    backbone: str
    setting: str
    seed: str | None
    value: float
    low: float | None
    high: float | None
    chance: float | None
    higher_is_better: bool = True
    parameters_m: float | None = None


@dataclass
class Estimate:
    value: float
    low: float | None
    high: float | None
    runs: int
    seeds: int
    std: float | None  # spread over seeds (after averaging the settings), with 2 seeds or more
    chance: float | None

    def interval(self) -> str:
        return f"[{self.low:.3f}, {self.high:.3f}]" if self.low is not None else "[no interval]"

    def shown(self) -> str:
        seeds = f", mean ± std over {self.seeds} seeds: {self.value:.3f} ± {self.std:.3f}" if self.std is not None else ""
        return f"{self.value:.3f} {self.interval()}{seeds}"

    def overlaps(self, other: "Estimate") -> bool:
        """Not separable: the intervals overlap, or one of them is unknown."""
        if None in (self.low, self.high, other.low, other.high):
            return True
        return self.low <= other.high and other.low <= self.high

    def includes_chance(self) -> bool:
        return self.chance is not None and self.low is not None and self.low <= self.chance <= self.high


def _variance_of_mean(runs: list[Run]) -> float | None:
    """Variance of the mean over one setting's seeds: sampling error plus seed spread."""
    n = len(runs)
    seed_part = statistics.variance([r.value for r in runs]) / n if n >= 2 else 0.0
    if any(r.low is None or r.high is None for r in runs):
        return seed_part if n >= 2 else None
    return sum(((r.high - r.low) / (2 * Z95)) ** 2 for r in runs) / n**2 + seed_part


def estimate(runs: list[Run]) -> Estimate:
    by_setting: dict[str, list[Run]] = {}
    for run in runs:
        by_setting.setdefault(run.setting, []).append(run)
    means = [statistics.fmean(r.value for r in group) for group in by_setting.values()]
    value = statistics.fmean(means)
    chances = [r.chance for r in runs if r.chance is not None]
    chance = statistics.fmean(chances) if chances else None
    seeds = sorted({r.seed for r in runs if r.seed is not None})
    std = None
    if len(seeds) >= 2:
        per_seed = [statistics.fmean(r.value for r in runs if r.seed == s) for s in seeds]
        std = statistics.stdev(per_seed)
    if len(runs) == 1:
        run = runs[0]
        return Estimate(value, run.low, run.high, 1, len(seeds), std, chance)
    variances = [_variance_of_mean(group) for group in by_setting.values()]
    if any(v is None for v in variances):
        return Estimate(value, None, None, len(runs), len(seeds), std, chance)
    half = Z95 * math.sqrt(sum(variances)) / len(means)
    return Estimate(value, value - half, value + half, len(runs), len(seeds), std, chance)


def table(runs: list[Run]) -> dict[str, dict[str, Estimate]]:
    """task -> backbone -> estimate over the other axes."""
    cells: dict[str, dict[str, list[Run]]] = {}
    for run in runs:
        cells.setdefault(run.task, {}).setdefault(run.backbone, []).append(run)
    return {task: {b: estimate(rs) for b, rs in sorted(by.items())} for task, by in cells.items()}


def ranked(scores: dict[str, Estimate], higher: bool) -> list[str]:
    return sorted(scores, key=lambda b: -scores[b].value if higher else scores[b].value)


def _question_1_and_2(cells, higher) -> tuple[list[str], list[str]]:
    spans, bests = [], []
    for task, scores in cells.items():
        order = ranked(scores, higher[task])
        top = scores[order[0]]
        chance = f" Chance: {top.chance:.3f}." if top.chance is not None else ""
        if len(order) == 1:
            spans.append(f"- {task}: one backbone only ({order[0]} {top.shown()}); nothing to compare.{chance}")
            bests.append(f"- {task}: only **{order[0]}** ran.")
            continue
        spread = abs(top.value - scores[order[-1]].value) * 100
        apart = [b for b in order[1:] if not top.overlaps(scores[b])]
        if not apart:
            verdict = "the backbones are not separable at this size (every interval overlaps the best's)"
        else:
            verdict = f"{', '.join(apart)} {'is' if len(apart) == 1 else 'are'} separably behind {order[0]}"
        spans.append(f"- {task}: the backbones span {spread:.1f} points ({len(order)} backbones); {verdict}.{chance}")
        runner = scores[order[1]]
        if top.overlaps(runner):
            listed = "; ".join(f"{b} {scores[b].shown()}" for b in order)
            bests.append(f"- {task}: not separable at this size: {listed}.")
        else:
            bests.append(f"- {task}: **{order[0]}** {top.shown()}, ahead of the runner-up {order[1]} {runner.shown()} (intervals apart).")
        at_chance = [b for b in order if scores[b].includes_chance()]
        if at_chance:
            bests[-1] += f" At chance level (interval includes {top.chance:.3f}): {', '.join(at_chance)}."
    return spans, bests


def _question_3(cells, higher) -> list[str]:
    backbones = sorted({b for scores in cells.values() for b in scores})
    everywhere = [b for b in backbones if all(b in scores for scores in cells.values())]
    if not everywhere:
        return ["- No backbone ran on every task."]
    standing: dict[str, dict[str, str]] = {}
    gaps: dict[str, float] = {}
    for task, scores in cells.items():
        order = ranked(scores, higher[task])
        top = scores[order[0]]
        clear_winner = len(order) > 1 and not top.overlaps(scores[order[1]])
        for b in everywhere:
            if b == order[0]:
                standing.setdefault(b, {})[task] = "best" if clear_winner or len(order) == 1 else "tied"
            else:
                standing.setdefault(b, {})[task] = "tied" if top.overlaps(scores[b]) else "behind"
            gaps[b] = max(gaps.get(b, 0.0), abs(top.value - scores[b].value) * 100)
    best_all = [b for b in everywhere if all(s == "best" for s in standing[b].values())]
    tied_all = [b for b in everywhere if all(s != "behind" for s in standing[b].values())]
    if best_all:
        lines = [f"- Yes: **{best_all[0]}** is the best on every task, its interval clear of the runner-up's."]
    elif tied_all:
        names = ", ".join(f"**{b}**" for b in tied_all)
        lines = [f"- Not decided at this size: {names} {'is' if len(tied_all) == 1 else 'are'} the best or not separable from the best on every task."]
    else:
        steady = min(everywhere, key=gaps.get)
        behind = [t for t, s in standing[steady].items() if s == "behind"]
        lines = [f"- No: every backbone is separably behind the best on some task; the most consistent, **{steady}**, is up to {gaps[steady]:.1f} points behind (on {', '.join(behind)})."]
    lines += ["", "| backbone | largest gap to the best (points) | " + " | ".join(cells) + " |", "|---|---|" + "---|" * len(cells)]
    for b in sorted(everywhere, key=gaps.get):
        lines.append(f"| {b} | {gaps[b]:.1f} | " + " | ".join(standing[b][t] for t in cells) + " |")
    return lines


def answers(cells: dict[str, dict[str, Estimate]], higher: dict[str, bool], missing: list[str]) -> str:
    spans, bests = _question_1_and_2(cells, higher)
    lines = ["# What the sweep answers", ""]
    if not cells:
        lines += ["No variant has finished yet.", ""]
    else:
        lines += ["## 1. How much does the backbone matter, per task?", "", *spans, ""]
        lines += ["## 2. Which backbone is best for each task?", "", *bests, ""]
        lines += ["## 3. Is one backbone best, or near-best, on all tasks?", "", *_question_3(cells, higher), ""]
    if missing:
        lines += ["## Not in these answers", "", f"{len(missing)} variants have no result:", *[f"- {m}" for m in missing], ""]
    lines += [
        "## How to read it",
        "",
        "Scores are each task's headline metric on the validation split, averaged over the other sweep axes (and seeds), "
        "with a 95 % interval: a variant's bootstrap interval over the evaluated samples (videos where the task has them), "
        "combined over the averaged variants, seeds adding their spread. A backbone is called best only where its interval "
        "clears the runner-up's; 'tied' means not separable from the best at this size. Chance is the metric of the same "
        "predictions shuffled across samples.",
        "",
    ]
    return "\n".join(lines)


# ------------------------------------------------------------------ plots
def _plain_log_axis(axis) -> None:
    """Tick labels such as 5, 10, 20 instead of 5×10^0 … 10^1."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    axis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    axis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    axis.set_minor_formatter(NullFormatter())


def _error(estimate: Estimate) -> tuple[float, float]:
    if estimate.low is None:
        return 0.0, 0.0
    return max(0.0, estimate.value - estimate.low), max(0.0, estimate.high - estimate.value)


def plot_per_backbone(cells: dict[str, dict[str, Estimate]], path: Path) -> None:
    from ..images import pyplot

    plt = pyplot()
    tasks = list(cells) or ["(no results)"]
    backbones = sorted({b for scores in cells.values() for b in scores})
    width = 1.5 + 1.2 * max(1, len(backbones)) * len(tasks)
    fig, axes = plt.subplots(1, len(tasks), figsize=(width, 3.5), squeeze=False)
    for ax, task in zip(axes[0], tasks):
        scores = cells.get(task, {})
        shown = [b for b in backbones if b in scores]
        errors = [_error(scores[b]) for b in shown]
        ax.bar(range(len(shown)), [scores[b].value for b in shown], color="tab:blue",
               yerr=[[e[0] for e in errors], [e[1] for e in errors]] if shown else None, capsize=4)
        chance = next((scores[b].chance for b in shown if scores[b].chance is not None), None)
        if chance is not None:
            ax.axhline(chance, color="gray", linestyle="--", linewidth=1, label=f"chance {chance:.2f}")
            ax.legend(fontsize=7)
        ax.set_xticks(range(len(shown)), shown, rotation=30, ha="right", fontsize=8)
        ax.set_title(task, fontsize=9)
    fig.tight_layout()
    _save(fig, path)


def plot_vs_parameters(runs: list[Run], path: Path) -> None:
    from ..images import pyplot

    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5, 3.5))
    for index, task in enumerate(sorted({r.task for r in runs})):
        points = [r for r in runs if r.task == task and r.parameters_m]
        if not points:
            continue
        color = f"C{index % 10}"
        errors = [[max(0.0, r.value - r.low) if r.low is not None else 0.0 for r in points],
                  [max(0.0, r.high - r.value) if r.high is not None else 0.0 for r in points]]
        ax.errorbar([r.parameters_m for r in points], [r.value for r in points], yerr=errors, fmt="o", color=color, capsize=3, label=task)
        chance = next((r.chance for r in points if r.chance is not None), None)
        if chance is not None:
            ax.axhline(chance, color=color, linestyle="--", linewidth=1)
    if any(r.parameters_m for r in runs):
        ax.set_xscale("log")
        _plain_log_axis(ax.xaxis)
        ax.legend(fontsize=7)
    ax.set_xlabel("parameters (millions)")
    ax.set_ylabel("headline metric (dashed: chance)")
    fig.tight_layout()
    _save(fig, path)


def _save(fig, path: Path) -> None:
    import io

    from ..images import pyplot
    from .state import write_atomic

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    pyplot().close(fig)
    write_atomic(path, buffer.getvalue())
