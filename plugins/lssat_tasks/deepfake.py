"""The deepfake task: real (0) / fake (1) frames, with the metrics the field reports."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from . import metrics as M
from .params import DeepfakeParams  # noqa: F401 - importable from here as before
from .tasks import BaseTask


class DeepfakeTask(BaseTask):
    """Binary real (0) / fake (1), as the field reports it (DeepfakeBench): accuracy, balanced
    accuracy, ROC-AUC, EER and average precision; per video too (the mean frame score) when frames
    know their video; and, on a dataset whose samples carry the group ``method`` (0 = real), the
    AUC of each method's fakes against all reals (``auc/<method>``).

    Balanced accuracy (the mean of the real and the fake recall) because real and fake are rarely
    balanced: with FF++'s four methods, four frames in five are fake, and plain accuracy has an
    80 % baseline.
    """

    kind = "binary"
    headline = DeepfakeParams.headline

    def __init__(self, label: str, groups: list[str] | None = None):
        super().__init__(label, groups)
        #: the fake methods of the bound dataset, in the order of their group values 1, 2, ...
        self.methods: list[str] = []

    def bind(self, info):
        outputs = super().bind(info)
        self.methods = list(info.groups.get("method", [])[1:])
        return outputs

    def outputs(self) -> int:
        return 1

    def loss(self, logits, target):
        return F.binary_cross_entropy_with_logits(logits.squeeze(-1), target.float())

    def scores(self, logits):
        return torch.sigmoid(logits.squeeze(-1))

    def split_metric_names(self, info):
        """Video metrics are listed when the dataset says its frames know their video
        (``info.videos``); per-method AUCs when it has the group ``method``."""
        methods = list(info.groups.get("method", [])[1:])
        names = ["acc", "balanced_acc", "auc", "eer", "ap", *(f"auc/{m}" for m in methods)]
        if info.videos:
            # video_auc_dfb (DeepfakeBench's grouping) comes only with datasets that name each
            # frame's folder (the shipped readers): a column for comparison, not a headline
            names += ["video_acc", "video_balanced_acc", "video_auc", "video_ap", *(f"video_auc/{m}" for m in methods)]
        return names

    def split_metrics(self, logits, target, extras):
        scores = self.scores(logits).numpy()
        labels = target.numpy().astype(bool)
        method = extras.get("groups", {}).get("method")
        method = method.numpy() if method is not None and self.methods else None
        result = ranking_metrics(scores, labels, method, self.methods, "", with_eer=True)
        if "video" in extras:
            videos = extras["video"].numpy()
            _, first, inverse = np.unique(videos, return_index=True, return_inverse=True)
            video_scores = np.bincount(inverse, weights=scores) / np.bincount(inverse)
            video_method = method[first] if method is not None else None
            result.update(ranking_metrics(video_scores, labels[first], video_method, self.methods, "video_"))
        if "video_folder" in extras:
            result["video_auc_dfb"] = deepfakebench_video_auc(scores, labels, extras["video_folder"].numpy())
        return result

    def chance_level(self, metric, target, extras):
        """0.5 for AUC and EER (any ranking of reals and fakes), the fakes' share for AP, the
        majority's share for accuracy and 1/2 for balanced accuracy; per video where the metric is."""
        labels = target.cpu().numpy().astype(bool)
        name = metric
        if metric.startswith("video_"):
            if "video" not in extras:
                return None
            _, first = np.unique(extras["video"].cpu().numpy(), return_index=True)
            labels, name = labels[first], metric.removeprefix("video_")
        if not len(labels):
            return None
        if name.startswith("auc") or name == "eer":  # auc, auc/<method>, auc_dfb
            return 0.5
        if name == "ap":
            return float(labels.mean())
        if name == "acc":
            return M.majority_rate(labels)
        if name == "balanced_acc":
            return 1 / len(np.unique(labels))
        return None

    def prediction_columns(self) -> list[str]:
        return [f"p_{self.bound_names()[1]}", "label"]

    def prediction_row(self, score: torch.Tensor) -> dict[str, Any]:
        probability = float(score.reshape(-1)[0])
        positive_column, _ = self.prediction_columns()
        return {positive_column: round(probability, 6), "label": self.names[int(probability >= 0.5)]}


def deepfakebench_video_auc(scores: np.ndarray, labels: np.ndarray, folder: np.ndarray) -> float:
    """The video AUC as DeepfakeBench computes it, for comparison with published tables: frames
    grouped by their folder's name alone (``folder``), a group's score the mean of its frames'
    and its label the floor of its frames' mean label. ``video_auc`` groups by the dataset's own
    video ids instead, so that two videos of one name (FF++ fakes of two methods) stay two."""
    _, inverse = np.unique(folder, return_inverse=True)
    counts = np.bincount(inverse)
    video_scores = np.bincount(inverse, weights=scores) / counts
    video_labels = np.floor(np.bincount(inverse, weights=labels.astype(np.float64)) / counts).astype(bool)
    return M.roc_auc(video_scores, video_labels)


def accuracies(scores: np.ndarray, labels: np.ndarray, prefix: str) -> dict[str, float]:
    """Accuracy and balanced accuracy of the decisions ``score ≥ 0.5`` (NaN on no sample)."""
    if not len(labels):
        return {f"{prefix}acc": float("nan"), f"{prefix}balanced_acc": float("nan")}
    matrix = M.confusion_matrix(scores >= 0.5, labels, 2)
    return {f"{prefix}acc": float(np.trace(matrix) / matrix.sum()), f"{prefix}balanced_acc": M.balanced_accuracy(matrix)}



def ranking_metrics(scores, labels, method: np.ndarray | None, methods: list[str], prefix: str, with_eer: bool = False) -> dict[str, float]:
    """Accuracies, AUC, EER (``with_eer``) and AP; with ``method`` (0 real, k the k-th of
    ``methods``) the AUC of each method's fakes against all reals."""
    result = accuracies(scores, labels, prefix)
    result[f"{prefix}auc"] = M.roc_auc(scores, labels)
    if with_eer:
        result[f"{prefix}eer"] = M.equal_error_rate(scores, labels)
    result[f"{prefix}ap"] = M.average_precision(scores, labels)
    if method is not None:
        for value, name in enumerate(methods, start=1):
            keep = (method == value) | ~labels
            result[f"{prefix}auc/{name}"] = M.roc_auc(scores[keep], labels[keep])
    return result
