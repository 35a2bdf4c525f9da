"""Metrics over a whole split, in numpy. Each takes all scores and labels at once."""

from __future__ import annotations

import numpy as np

from lssat_framework.images import pyplot


def _binary(scores, labels) -> tuple[np.ndarray, np.ndarray, int, int]:
    """Scores as float64, labels as bool, and the counts of positives and negatives."""
    scores, labels = np.asarray(scores, dtype=np.float64), np.asarray(labels).astype(bool)
    return scores, labels, int(labels.sum()), int((~labels).sum())


def roc_auc(scores: np.ndarray, labels: np.ndarray) -> float:
    """Area under the ROC curve (Mann–Whitney U, ties counted half). NaN with one class only."""
    scores, labels, positives, negatives = _binary(scores, labels)
    if positives == 0 or negatives == 0:
        return float("nan")
    order = np.argsort(scores, kind="mergesort")
    sorted_scores = scores[order]
    ranks = np.empty(len(scores), dtype=np.float64)
    start = 0
    while start < len(scores):  # average ranks over ties
        end = start
        while end + 1 < len(scores) and sorted_scores[end + 1] == sorted_scores[start]:
            end += 1
        ranks[order[start : end + 1]] = (start + end) / 2 + 1
        start = end + 1
    return float((ranks[labels].sum() - positives * (positives + 1) / 2) / (positives * negatives))


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
    fig.savefig(path, dpi=100)
    plt.close(fig)
