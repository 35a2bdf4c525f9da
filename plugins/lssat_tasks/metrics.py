"""Metrics over a whole split, in numpy. Each takes all scores and labels at once."""

from __future__ import annotations

import numpy as np

from lssat_framework.images import pyplot, save_figure


def _binary(scores, labels) -> tuple[np.ndarray, np.ndarray, int, int]:
    """Scores as float64, labels as bool, and the counts of positives and negatives."""
    scores, labels = np.asarray(scores, dtype=np.float64), np.asarray(labels).astype(bool)
    return scores, labels, int(labels.sum()), int((~labels).sum())


def roc_auc(scores: np.ndarray, labels: np.ndarray) -> float:
    """Area under the ROC curve (Mann–Whitney U, ties counted half). NaN with one class only."""
    scores, labels, positives, negatives = _binary(scores, labels)
    if positives == 0 or negatives == 0:
        return float("nan")
    _, inverse, counts = np.unique(scores, return_inverse=True, return_counts=True)
    average_rank = np.cumsum(counts) - (counts - 1) / 2  # tied scores share the mean of their ranks
    ranks = average_rank[inverse.reshape(-1)]
    return float((ranks[labels].sum() - positives * (positives + 1) / 2) / (positives * negatives))


def _counts_by_threshold(scores: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """True and false positives when every score ≥ each distinct score (highest first) is called
    positive, and those thresholds."""
    order = np.argsort(-scores, kind="mergesort")
    ordered, hits = scores[order], labels[order]
    last_of_each = np.r_[np.flatnonzero(np.diff(ordered)), len(ordered) - 1]
    true_positives = np.cumsum(hits)[last_of_each]
    return true_positives, last_of_each + 1 - true_positives, ordered[last_of_each]


def roc_curve(scores: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """False- and true-positive rates at every distinct threshold, from (0, 0) (threshold +inf)
    to (1, 1); scikit-learn's ``roc_curve(..., drop_intermediate=False)``."""
    scores, labels, positives, negatives = _binary(scores, labels)
    tp, fp, thresholds = _counts_by_threshold(scores, labels)
    tpr = np.r_[0.0, tp / positives] if positives else np.full(len(tp) + 1, np.nan)
    fpr = np.r_[0.0, fp / negatives] if negatives else np.full(len(fp) + 1, np.nan)
    return fpr, tpr, np.r_[np.inf, thresholds]


def average_precision(scores: np.ndarray, labels: np.ndarray) -> float:
    """Average precision: the precision at each threshold weighted by the recall it adds
    (scikit-learn's ``average_precision_score``, no interpolation). NaN without positives."""
    scores, labels, positives, _ = _binary(scores, labels)
    if positives == 0:
        return float("nan")
    tp, fp, _ = _counts_by_threshold(scores, labels)
    recall_gained = np.diff(np.r_[0.0, tp / positives])
    return float(np.sum(recall_gained * tp / (tp + fp)))


def equal_error_rate(scores: np.ndarray, labels: np.ndarray) -> float:
    """The error rate where false-positive and false-negative rates meet (interpolated)."""
    scores, labels, positives, negatives = _binary(scores, labels)
    if positives == 0 or negatives == 0:
        return float("nan")
    thresholds = np.concatenate([[-np.inf], np.unique(scores), [np.inf]])
    # counts at every threshold by binary search in the sorted scores: O(n log n), not O(n²)
    negatives_below = np.searchsorted(np.sort(scores[~labels]), thresholds, side="left")
    positives_below = np.searchsorted(np.sort(scores[labels]), thresholds, side="left")
    fpr = (negatives - negatives_below) / negatives
    fnr = positives_below / positives
    diff = fpr - fnr  # decreasing from 1 to -1
    i = int(np.argmax(diff <= 0))
    if diff[i] == 0 or i == 0:
        return float(fpr[i])
    a, b = diff[i - 1], diff[i]  # interpolate the crossing between i-1 and i
    w = a / (a - b)
    return float((1 - w) * fpr[i - 1] + w * fpr[i])


def majority_rate(labels: np.ndarray) -> float:
    """The share of the most frequent class: the accuracy of always answering it (NaN on no sample)."""
    labels = np.asarray(labels)
    if not len(labels):
        return float("nan")
    _, counts = np.unique(labels, return_counts=True)
    return float(counts.max() / len(labels))


def confusion_matrix(predicted: np.ndarray, labels: np.ndarray, classes: int) -> np.ndarray:
    """Rows: true class; columns: predicted class."""
    matrix = np.zeros((classes, classes), dtype=np.int64)
    np.add.at(matrix, (np.asarray(labels, dtype=np.int64), np.asarray(predicted, dtype=np.int64)), 1)
    return matrix


def balanced_accuracy(matrix: np.ndarray) -> float:
    """Mean recall over the classes present in the labels."""
    support = matrix.sum(axis=1)
    present = support > 0
    return float((np.diag(matrix)[present] / support[present]).mean())


def macro_f1(matrix: np.ndarray) -> float:
    """Mean F1 over the classes present in labels or predictions."""
    tp = np.diag(matrix).astype(np.float64)
    predicted, actual = matrix.sum(axis=0), matrix.sum(axis=1)
    present = (predicted + actual) > 0
    f1 = np.where(predicted + actual > 0, 2 * tp / np.maximum(predicted + actual, 1), 0.0)
    return float(f1[present].mean())


def save_confusion_png(matrix: np.ndarray, names: list[str], path) -> None:
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(1 + 0.6 * len(names), 1 + 0.6 * len(names)))
    ax.imshow(matrix, cmap="Blues")
    ax.set_xticks(range(len(names)), names, rotation=45, ha="right")
    ax.set_yticks(range(len(names)), names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    top = matrix.max() or 1
    for (i, j), value in np.ndenumerate(matrix):
        ax.text(j, i, str(value), ha="center", va="center", color="white" if value > top / 2 else "black", fontsize=8)
    fig.tight_layout()
    save_figure(fig, path, dpi=100)
