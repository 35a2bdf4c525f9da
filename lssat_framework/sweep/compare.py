"""The backbones of each task compared on equal ground, with paired intervals.

A task's backbones are compared only over the settings and seeds that every one of them finished
(its ground); a setting or seed that some backbone lacks is left out for all of them and named
(``incomplete``), never averaged away. A backbone without any result is named too (``absent``);
one backbone alone has nothing to compare with.

Each backbone's cell is its mean over the ground (each setting the mean of its seeds), with the
95 % interval of the paired, hierarchical bootstrap (:mod:`.paired`, :mod:`.scoring`). The
differences between backbones come from the same draws: a backbone is ahead of another only where
the interval of their paired difference excludes 0; otherwise they are not separable. Where a run's
per-sample outputs cannot be scored again (older runs, the final weights reported) the task falls
back to the runs' own intervals, combined conservatively, and says so.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from pathlib import Path

from .reported import describe

#: fewer evaluated samples (videos where the split has videos) than this: a warning beside the figure
MIN_EVALUATED = 30


@dataclass
class Run:
    """One variant of the grid, finished or not, with the figures its ``summary.json`` reports."""

    name: str
    task: str
    backbone: str
    setting: str
    seed: str | None
    state: str = "done"
    metric: str = ""
    value: float | None = None
    low: float | None = None
    high: float | None = None
    chance: float | None = None
    higher_is_better: bool = True
    parameters_m: float | None = None
    run_dir: Path | None = None
    weights: str | None = None  # "best" or "final": the weights the figures come from
    epoch: int | None = None
    split: str | None = "val"
    samples: int | None = None
    videos: int | None = None
    error: str | None = None

    @property
    def done(self) -> bool:
        return self.state == "done" and self.value is not None

    def evaluated(self) -> tuple[int, str] | None:
        """How many units the figure rests on: videos where the split has them, else samples."""
        if self.videos is not None:
            return self.videos, "videos"
        return (self.samples, "samples") if self.samples is not None else None

    def why_missing(self) -> str:
        return self.state + (f": {self.error}" if self.error else "")


@dataclass
class Cell:
    """A backbone on a task over the task's ground."""

    backbone: str
    value: float
    low: float | None
    high: float | None
    chance: float | None
    runs: list[Run]
    seeds: int = 0
    std: float | None = None  # the spread over seeds (after averaging the settings), with 2 seeds or more

    def interval(self) -> str:
        return f"[{self.low:.3f}, {self.high:.3f}]" if self.low is not None else "[no interval]"

    def includes_chance(self) -> bool:
        return self.chance is not None and self.low is not None and self.low <= self.chance <= self.high

    def warning(self) -> str:
        """The sample-size warning beside the figure, or ''."""
        counts = [run.evaluated() for run in self.runs if run.evaluated() is not None]
        if not counts:
            return ""
        count, unit = min(counts)
        return f" ⚠ only {count} {unit} evaluated (under {MIN_EVALUATED}): too few to trust" if count < MIN_EVALUATED else ""

    def shown(self) -> str:
        seeds = f", mean ± std over {self.seeds} seeds: {self.value:.3f} ± {self.std:.3f}" if self.std is not None else ""
        return f"{self.value:.3f} {self.interval()}{seeds}{self.warning()}"

    def weights(self) -> str:
        return describe(self.runs)


@dataclass
class Difference:
    """``a − b`` of two cells, with its interval."""

    value: float
    low: float | None
    high: float | None

    def shown(self) -> str:
        interval = f"[{self.low:+.3f}, {self.high:+.3f}]" if self.low is not None else "[no interval]"
        return f"{self.value:+.3f} {interval}"

    def verdict(self) -> str:
        if self.low is None:
            return "no interval: not separable"
        return "excludes 0" if self.low > 0 or self.high < 0 else "includes 0"


@dataclass
class Comparison:
    task: str
    higher: bool
    cells: dict[str, Cell]
    differences: dict[tuple[str, str], Difference] = field(default_factory=dict)
    best_share: dict[str, float] = field(default_factory=dict)
    ground: dict[str, list] = field(default_factory=dict)
    incomplete: list[str] = field(default_factory=list)
    absent: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    paired: bool = False  # the intervals come from the paired bootstrap (else from the runs' own intervals)

    @property
    def order(self) -> list[str]:
        return sorted(self.cells, key=lambda b: -self.cells[b].value if self.higher else self.cells[b].value)

    def ahead(self, a: str, b: str) -> bool:
        """``a`` separably better than ``b``: their paired difference's interval excludes 0 on a's side."""
        d = self.differences.get((a, b))
        return d is not None and d.low is not None and (d.low > 0 if self.higher else d.high < 0)

    def clear_best(self) -> bool:
        order = self.order
        return len(order) > 1 and all(self.ahead(order[0], b) for b in order[1:])

    def standing(self, backbone: str) -> str:
        """alone, best, tied (not separable from the top) or behind; missing where it has no cell."""
        order = self.order
        if backbone not in self.cells:
            return "missing"
        if len(order) == 1:
            return "alone"
        if backbone == order[0]:
            return "best" if self.clear_best() else "tied"
        return "behind" if self.ahead(order[0], backbone) else "tied"


def compare(runs: list[Run], draws: int | None = None, seed: int = 0) -> list[Comparison]:
    """Each task's comparison, tasks in the order they first appear."""
    from . import paired

    tasks: dict[str, list[Run]] = {}
    for run in runs:
        tasks.setdefault(run.task, []).append(run)
    found = [_compare_task(task, members, draws or paired.DRAWS, seed) for task, members in tasks.items()]
    return [comparison for comparison in found if comparison is not None]


def _compare_task(task: str, runs: list[Run], draws: int, seed: int) -> Comparison | None:
    done = [r for r in runs if r.done]
    if not done:
        return None
    backbones = sorted({r.backbone for r in done})
    absent = sorted({r.backbone for r in runs} - set(backbones))
    ground, incomplete = equal_ground(runs, backbones)
    chosen = [r for r in done if r.seed in ground.get(r.setting, ())]
    comparison = Comparison(task, done[0].higher_is_better, {}, ground=ground, incomplete=incomplete)
    comparison.absent = [f"{b} ({', '.join(sorted({r.why_missing() for r in runs if r.backbone == b}))})" for b in absent]
    if not chosen:  # no setting and seed that every backbone finished: nothing to put side by side
        return comparison
    from .intervals import fill_fallback, fill_paired

    reasons = fill_paired(comparison, chosen, backbones, draws, seed)
    if reasons:
        fill_fallback(comparison, chosen, backbones, reasons)
    for b, cell in comparison.cells.items():
        cell.seeds, cell.std = _seed_spread([r for r in chosen if r.backbone == b])
    return comparison


def equal_ground(runs: list[Run], backbones: list[str]) -> tuple[dict[str, list], list[str]]:
    """The settings and seeds every backbone of ``backbones`` finished (setting -> seeds), and a
    sentence for each setting and seed left out, naming the backbones that lack it."""
    combos = list(dict.fromkeys((r.setting, r.seed) for r in runs))
    finished = {b: {(r.setting, r.seed) for r in runs if r.backbone == b and r.done} for b in backbones}
    ground: dict[str, list] = {}
    incomplete = []
    for setting, seed in combos:
        lacking = [b for b in backbones if (setting, seed) not in finished[b]]
        if not lacking:
            ground.setdefault(setting, []).append(seed)
            continue
        states = {b: "; ".join(r.why_missing() for r in runs if r.backbone == b and (r.setting, r.seed) == (setting, seed)) or "not in the grid"
                  for b in lacking}
        incomplete.append(f"{where(setting, seed)}: no result from {', '.join(f'{b} ({s})' for b, s in states.items())}")
    return ground, incomplete


def where(setting: str, seed: str | None) -> str:
    parts = ([f"setting {setting}"] if setting else []) + ([f"seed {seed}"] if seed is not None else [])
    return ", ".join(parts) or "the one variant"


def _seed_spread(runs: list[Run]) -> tuple[int, float | None]:
    seeds = list(dict.fromkeys(r.seed for r in runs if r.seed is not None))
    if len(seeds) < 2:
        return len(seeds), None
    per_seed = [statistics.fmean(r.value for r in runs if r.seed == s) for s in seeds]
    return len(seeds), statistics.stdev(per_seed)
