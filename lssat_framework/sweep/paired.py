"""The paired, hierarchical bootstrap behind a sweep's answers (numpy only).

All variants of a task are scored on the same validation samples, so their sampling errors are
shared, not independent. One draw resamples those samples (whole videos where the split has
videos) once and applies the same draw to every variant and seed of the task; it also resamples
the seeds of each setting, the same picks for every backbone. A backbone's cell (its mean over the
settings and seeds), the differences between backbones and which backbone is best are computed
inside each draw: what the variants share is counted once in a mean and cancels in a difference.
The 2.5th and 97.5th percentiles of the draws are the 95 % interval.

A draw is a row of counts, one per unit (sample or video): how often the unit was drawn; the draws
and the metrics scored on them are a run's own bootstrap's (:mod:`lssat_framework.train.resampling`).

Seeds: each setting's seeds are resampled too (the same picks for every backbone), but the
seeds' reported values already carry the sampling error that the resampled samples carry: the
seed part of a draw is the resampled seeds' mean deviation, scaled to the seeds' spread beyond what
the sampling explains (estimated from the draws), by sqrt(R / (R - 1)) (resampling R values
shrinks their spread by (R - 1) / R) and by t / 1.96 for the seeds' Σ(R - 1) degrees of freedom.
Without that, seed-to-seed churn was counted twice (differences covered 100 %) and a few seeds'
spread too little (91 %). Settings are not resampled: the answers are about these settings.
"""

from __future__ import annotations

import math

import numpy as np

DRAWS = 500
LEVEL = 0.95
Z975 = 1.959964
#: the 97.5th percentile of Student's t by degrees of freedom
T975 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262, 10: 2.228}


def t975(df: int) -> float:
    """Student's t at 97.5 % for ``df`` degrees of freedom (1.96 + 2.4/df beyond the table, within 0.3 %)."""
    return T975.get(df, Z975 + 2.4 / df) if df > 0 else math.inf


Ground = dict[str, list]  # setting -> the seeds every backbone finished there


def seed_picks(rng: np.random.Generator, ground: Ground, draws: int) -> dict[str, np.ndarray]:
    """For each setting, the seeds drawn (indices into its seeds), (draws, R): one pick for all backbones."""
    return {setting: rng.integers(len(seeds), size=(draws, len(seeds))) for setting, seeds in ground.items()}


def _seed_part(stacked: np.ndarray, points: np.ndarray, picks: np.ndarray, df: int) -> np.ndarray:
    """One setting's seed deviation in each draw: its seeds' reported values resampled, scaled to
    the seeds' spread beyond what the sampling of the validation set explains, widened by t."""
    seeds = len(points)
    spread = float(np.var(points, ddof=1))
    if spread <= 0:
        return np.zeros(len(stacked))
    # how far one seed's value moves from the seeds' mean by the sampling alone (per-sample churn)
    sampling = float(np.nanmean(np.nanvar(stacked - stacked.mean(axis=1, keepdims=True), axis=0))) * seeds / (seeds - 1)
    beyond = max(0.0, spread - sampling) if math.isfinite(sampling) else spread
    scale = math.sqrt(seeds / (seeds - 1) * beyond / spread) * t975(df) / Z975
    return scale * (points[picks].mean(axis=1) - points.mean())


def cell_draws(values: dict[tuple, np.ndarray], points: dict[tuple, float], ground: Ground, picks: dict[str, np.ndarray]) -> np.ndarray:
    """A backbone's mean over the settings and seeds in each draw. ``values``: (setting, seed) ->
    that variant's metric in each draw; ``points``: (setting, seed) -> its reported value."""
    df = sum(len(seeds) - 1 for seeds in ground.values())
    means = []
    for setting, seeds in ground.items():
        stacked = np.stack([values[(setting, seed)] for seed in seeds], axis=1)
        mean = stacked.mean(axis=1)
        if len(seeds) > 1:
            mean = mean + _seed_part(stacked, np.array([points[(setting, seed)] for seed in seeds]), picks[setting], df)
        means.append(mean)
    return np.mean(means, axis=0)


def cell_point(points: dict[tuple, float], ground: Ground) -> float:
    """A backbone's mean over the settings (each the mean over its seeds) of the reported values."""
    return float(np.mean([np.mean([points[(setting, seed)] for seed in seeds]) for setting, seeds in ground.items()]))


def interval(draws: np.ndarray, level: float = LEVEL) -> tuple[float, float] | None:
    """The percentile interval of the draws; None where half of them or more are undefined."""
    finite = draws[np.isfinite(draws)]
    if len(finite) <= len(draws) / 2:
        return None
    tail = (1 - level) / 2
    low, high = np.quantile(finite, [tail, 1 - tail])
    return float(low), float(high)


def best_shares(cells: dict[str, np.ndarray], higher: bool) -> dict[str, float]:
    """The share of draws in which each backbone's cell is the best (an undefined draw counts for none)."""
    names = list(cells)
    stacked = np.stack([cells[name] for name in names], axis=1)
    defined = np.isfinite(stacked).all(axis=1)
    if not defined.any():
        return {name: float("nan") for name in names}
    winner = (np.argmax if higher else np.argmin)(stacked[defined], axis=1)
    return {name: float(np.mean(winner == index)) for index, name in enumerate(names)}
