"""The records of a comparison: one variant's figures (:class:`Run`), one backbone's cell, one
paired difference, and a task's whole comparison (:class:`Comparison`), which :mod:`.compare`
fills and :mod:`.answers` and :mod:`.plots` read."""

from __future__ import annotations

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
