"""A task's cells and the differences between its backbones, with their intervals.

:func:`fill_paired` runs the paired, hierarchical bootstrap (:mod:`.paired`) on the runs' own
per-sample validation outputs (:mod:`.scoring`). Where those cannot be scored again (runs from
before ``predictions.npz`` was kept, or reporting their final weights), :func:`fill_fallback` uses
each run's own interval, combined so as to be too wide rather than too narrow: a cell's sampling
half-width is the mean of its runs' (as if their errors were one; they share the validation
samples), plus Student's t times the seeds' standard error; a difference adds the two cells'
half-widths in quadrature (as if independent). A run without an interval leaves its cell without
one: such a cell is never separable.
"""

from __future__ import annotations

import math
import statistics

import numpy as np

from . import paired
from .paired import t975
from .records import Cell, Comparison, Difference, Run

#: at most this many runs are named in a note
NAMED = 3
#: metrics that lie between 0 and 1 (with a ``video_`` prefix, a ``/<method>`` or ``@<group>`` suffix too)
RATES = ("auc", "acc", "balanced_acc", "mean_acc", "ap", "eer", "macro_f1")


def _chance(runs: list[Run]) -> float | None:
    known = [r.chance for r in runs if r.chance is not None]
    return statistics.fmean(known) if known else None


def _named(items: list[str]) -> str:
    more = f"; and {len(items) - NAMED} more" if len(items) > NAMED else ""
    return "; ".join(items[:NAMED]) + more


def _is_rate(runs: list[Run]) -> bool:
    return runs[0].metric.removeprefix("video_").split("/")[0].split("@")[0] in RATES


def _cell(backbone: str, value: float, low: float | None, high: float | None, runs: list[Run]) -> Cell:
    """A cell; the interval of a rate (AUC, accuracies, AP, EER) cut at 0 and 1."""
    if low is not None and _is_rate(runs):
        low, high = max(0.0, low), min(1.0, high)
    return Cell(backbone, value, low, high, _chance(runs), runs)


def _difference(value: float, low: float | None, high: float | None, runs: list[Run]) -> Difference:
    """A difference; for rates its interval cut at -1 and 1 (few seeds, widened by Student's t, can
    reach past them: with two seeds t is 12.7), which keeps every truth it held."""
    if low is not None and high is not None and _is_rate(runs):
        low, high = max(-1.0, low), min(1.0, high)
    return Difference(value, low, high)


def _per_backbone(chosen: list[Run], backbone: str) -> tuple[list[Run], dict[tuple, float]]:
    mine = [r for r in chosen if r.backbone == backbone]
    return mine, {(r.setting, r.seed): r.value for r in mine}


def fill_paired(comparison: Comparison, chosen: list[Run], backbones: list[str], draws: int, seed: int) -> list[str]:
    """Cells, differences and best shares from the paired bootstrap; where it cannot run, nothing
    is filled and the runs that prevent it are returned, each with why."""
    from . import scoring

    values, notes = scoring.draw_values(chosen, chosen[0].metric, draws, seed)
    if values is None:
        return notes
    comparison.paired = True
    comparison.notes += notes
    picks = paired.seed_picks(np.random.default_rng([seed, 1]), comparison.ground, draws)
    cell_draws = {}
    for backbone in backbones:
        mine, points = _per_backbone(chosen, backbone)
        cell_draws[backbone] = paired.cell_draws({(r.setting, r.seed): values[r.name] for r in mine}, points, comparison.ground, picks)
        bounds = paired.interval(cell_draws[backbone]) or (None, None)
        comparison.cells[backbone] = _cell(backbone, paired.cell_point(points, comparison.ground), *bounds, mine)
    for a in backbones:
        for b in backbones:
            if a != b:
                bounds = paired.interval(cell_draws[a] - cell_draws[b]) or (None, None)
                comparison.differences[(a, b)] = _difference(comparison.cells[a].value - comparison.cells[b].value, *bounds, chosen)
    if len(backbones) > 1:
        comparison.best_share = paired.best_shares(cell_draws, comparison.higher)
    return []


def _half_width(runs: list[Run], ground: dict[str, list]) -> float | None:
    """The fallback's half-width of a cell: its runs' mean half-width plus t times the seeds' error."""
    if any(r.low is None or r.high is None for r in runs):
        return None
    half = statistics.fmean((r.high - r.low) / 2 for r in runs)
    spread, df = 0.0, 0
    for setting, seeds in ground.items():
        values = [r.value for r in runs if r.setting == setting]
        if len(values) > 1:
            spread += statistics.variance(values) / len(values)
            df += len(values) - 1
    return half + (t975(df) * math.sqrt(spread) / len(ground) if df else 0.0)


def fill_fallback(comparison: Comparison, chosen: list[Run], backbones: list[str], reasons: list[str]) -> None:
    comparison.notes.append("not the paired bootstrap: intervals from each run's own interval, combined to err on the wide side, "
                            f"since not every run's per-sample outputs can be scored again ({_named(reasons)})")
    halves: dict[str, float | None] = {}
    for backbone in backbones:
        mine, points = _per_backbone(chosen, backbone)
        value = paired.cell_point(points, comparison.ground)
        halves[backbone] = _half_width(mine, comparison.ground)
        if len(mine) == 1 and mine[0].low is not None:
            low, high = mine[0].low, mine[0].high
            halves[backbone] = max(value - low, high - value)
        elif halves[backbone] is None:
            low = high = None
        else:
            low, high = value - halves[backbone], value + halves[backbone]
        comparison.cells[backbone] = _cell(backbone, value, low, high, mine)
    for a in backbones:
        for b in backbones:
            if a == b:
                continue
            d = comparison.cells[a].value - comparison.cells[b].value
            if halves[a] is None or halves[b] is None:
                comparison.differences[(a, b)] = Difference(d, None, None)
            else:
                half = math.hypot(halves[a], halves[b])
                comparison.differences[(a, b)] = _difference(d, d - half, d + half, chosen)
