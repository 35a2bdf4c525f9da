"""Bootstrap draws of an evaluated split and a metric scored on each, shared by a run's interval
(:func:`~lssat_framework.train.evaluation.bootstrap_interval`) and a sweep's paired bootstrap
(:mod:`lssat_framework.sweep.paired`), numpy only.

A draw is a row of counts, one per unit (a sample, or a whole video where the split has videos):
how often the unit was drawn. A metric turns a matrix of draws into one value per draw:
:class:`MeanMetric` (accuracy, mean attribute accuracy), :class:`BalancedMetric` (balanced
accuracy) and :class:`RankMetric` (ROC-AUC, ties counted half) are vectorised over the draws and
used only where they give the task's own value (:func:`draw_metric` checks on the whole split and
on one draw); any other metric is the task's own, draw by draw, each drawn video a new video.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterator, Sequence
from typing import Any, Callable

import numpy as np

#: draws are made and scored in chunks of at most this many (draw, sample) cells
CHUNK_CELLS = 4_000_000
#: how far a vectorised metric may differ from the task's own (float sums in another order)
TOLERANCE = 1e-6

Metric = Callable[[np.ndarray], np.ndarray]


def unit_counts(rng: np.random.Generator, units: int, draws: int) -> np.ndarray:
    """``draws`` bootstrap draws of ``units`` units: how often each unit is drawn, (draws, units)."""
    drawn = rng.integers(units, size=(draws, units)) + (np.arange(draws) * units)[:, None]
    return np.bincount(drawn.ravel(), minlength=draws * units).reshape(draws, units).astype(np.float64)


def chunked(draws: int, samples: int) -> Iterator[slice]:
    """The draws in chunks small enough to score at once."""
    size = max(1, min(draws, CHUNK_CELLS // max(1, samples)))
    for start in range(0, draws, size):
        yield slice(start, min(draws, start + size))


def sample_units(video: np.ndarray | None, samples: int) -> tuple[np.ndarray, int]:
    """Each sample's resampling unit: its video where the split has videos, else itself."""
    if video is not None:
        _, unit = np.unique(video, return_inverse=True)
        return unit.reshape(-1), int(unit.max()) + 1 if len(unit) else 0
    return np.arange(samples), samples


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denominator > 0, numerator / np.where(denominator > 0, denominator, 1), np.nan)


class MeanMetric:
    """The mean of a per-sample value (1 for a correct answer: accuracy) over the drawn samples."""

    def __init__(self, values: np.ndarray, unit: np.ndarray, units: int):
        self.sums = np.bincount(unit, weights=np.asarray(values, dtype=np.float64), minlength=units)
        self.sizes = np.bincount(unit, minlength=units).astype(np.float64)

    def __call__(self, counts: np.ndarray) -> np.ndarray:
        return _ratio(counts @ self.sums, counts @ self.sizes)


class BalancedMetric:
    """The mean over the classes present of each class's share of correct answers."""

    def __init__(self, correct: np.ndarray, labels: np.ndarray, unit: np.ndarray, units: int):
        classes = np.unique(labels)
        self.sums = np.stack([np.bincount(unit, weights=correct * (labels == k), minlength=units) for k in classes], axis=1)
        self.sizes = np.stack([np.bincount(unit, weights=(labels == k).astype(np.float64), minlength=units) for k in classes], axis=1)

    def __call__(self, counts: np.ndarray) -> np.ndarray:
        recall = _ratio(counts @ self.sums, counts @ self.sizes)
        with warnings.catch_warnings():  # a draw without any class present: NaN, silently
            warnings.simplefilter("ignore", RuntimeWarning)
            return np.nanmean(recall, axis=1)


class RankMetric:
    """ROC-AUC: the chance that a drawn positive scores above a drawn negative, ties counted half."""

    def __init__(self, scores: np.ndarray, labels: np.ndarray, unit: np.ndarray):
        order = np.argsort(np.asarray(scores, dtype=np.float64), kind="mergesort")
        ordered = np.asarray(scores, dtype=np.float64)[order]
        self.unit = unit[order]
        self.positive = np.asarray(labels, dtype=bool)[order]
        self.starts = np.r_[0, np.flatnonzero(np.diff(ordered)) + 1]  # each distinct score's first sample

    def __call__(self, counts: np.ndarray) -> np.ndarray:
        weights = counts[:, self.unit]
        positives = np.add.reduceat(weights * self.positive, self.starts, axis=1)
        negatives = np.add.reduceat(weights * ~self.positive, self.starts, axis=1)
        below = np.cumsum(negatives, axis=1) - negatives
        pairs = positives.sum(axis=1) * negatives.sum(axis=1)
        return _ratio((positives * (below + 0.5 * negatives)).sum(axis=1), pairs)


def by_task(task, evaluation, metric: str, unit: np.ndarray, units: int) -> Metric:
    """The task's own metric on each draw: the drawn units' samples, each drawn video a new video."""
    import torch

    order = np.argsort(unit, kind="stable")
    sizes = np.bincount(unit, minlength=units)
    starts = np.cumsum(sizes) - sizes
    videos = "video" in evaluation.extras

    def values(counts: np.ndarray) -> np.ndarray:
        out = np.empty(len(counts))
        for row, drawn_counts in enumerate(counts.astype(np.int64)):
            drawn = np.repeat(np.arange(units), drawn_counts)
            lengths = sizes[drawn]
            within = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
            index = torch.from_numpy(order[np.repeat(starts[drawn], lengths) + within])
            extras: dict[str, Any] = {"groups": {k: v[index] for k, v in evaluation.extras.get("groups", {}).items()}}
            if videos:
                extras["video"] = torch.from_numpy(np.repeat(np.arange(len(drawn)), lengths))
            value = task.metrics(evaluation.logits[index], evaluation.target[index], extras).get(metric)
            out[row] = math.nan if value is None else value
        return out

    return values


def _correct(task, evaluation) -> np.ndarray | None:
    """Each sample's share of correct answers, as the builtin tasks decide them."""
    logits, target = evaluation.logits.float(), evaluation.target
    if logits.ndim == 2 and logits.shape[1] == 1 and target.ndim == 1:  # binary: score >= 0.5
        return ((task.scores(logits).numpy() >= 0.5) == target.numpy().astype(bool)).astype(np.float64)
    if logits.ndim == 2 and target.ndim == 1:  # multi-class: the largest logit
        return (logits.argmax(-1) == target).numpy().astype(np.float64)
    chosen = task.select(target) if hasattr(task, "select") else target
    if chosen.shape != logits.shape:
        return None
    return ((logits >= 0) == chosen.bool()).double().mean(dim=1).numpy()  # multi-label: the mean over labels


def vectorised(task, evaluation, metric: str, unit: np.ndarray, units: int) -> Metric | None:
    """The vectorised form of ``metric`` for this task's outputs, or None where there is none."""
    target = evaluation.target.numpy()
    if metric == "auc" and target.ndim == 1:
        scores = task.scores(evaluation.logits.float()).numpy()
        return RankMetric(scores, target.astype(bool), unit) if scores.ndim == 1 else None
    if metric not in ("acc", "mean_acc", "balanced_acc"):
        return None
    correct = _correct(task, evaluation)
    if correct is None:
        return None
    if metric == "balanced_acc":
        return BalancedMetric(correct, target, unit, units) if target.ndim == 1 else None
    return MeanMetric(correct, unit, units)


def close(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or abs(a - b) <= TOLERANCE


def draw_metric(task, evaluation, metric: str, full: float | None = None) -> tuple[Metric, int]:
    """How ``metric`` moves on a draw of ``evaluation``'s units, and how many units there are: the
    vectorised form where it gives the task's own value on the whole split (``full``, computed
    when not given) and on one draw, else the task's metric draw by draw."""
    video = evaluation.extras.get("video")
    unit, units = sample_units(None if video is None else video.numpy(), len(evaluation.target))
    general = by_task(task, evaluation, metric, unit, units)
    fast = vectorised(task, evaluation, metric, unit, units)
    if fast is not None:
        if full is None:
            full = task.metrics(evaluation.logits, evaluation.target, evaluation.extras).get(metric)
        one = unit_counts(np.random.default_rng(len(unit)), units, 1)
        agrees = full is not None and close(float(fast(np.ones((1, units)))[0]), float(full)) and close(float(fast(one)[0]), float(general(one)[0]))
        fast = fast if agrees else None
    return fast or general, units


def metric_draws(scores: Sequence[Metric], units: int, samples: int, draws: int, rng: np.random.Generator) -> list[np.ndarray]:
    """Each of ``scores`` on the same ``draws`` new draws of the ``units`` (``samples`` in all),
    drawn in chunks: what is scored together is paired."""
    values = [np.empty(draws) for _ in scores]
    for part in chunked(draws, samples):
        counts = unit_counts(rng, units, part.stop - part.start)
        for out, score in zip(values, scores):
            out[part] = score(counts)
    return values
