"""Builtin tasks. Each reads one label of the dataset, sizes its head, owns loss and metrics.

Metrics are computed over the whole split at once (the trainer gathers every process's
outputs first). Tasks given ``groups`` also report their headline metric per group value and
the largest gap between groups (fairness).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from pydantic import BaseModel, ConfigDict, Field

from lssat_framework.errors import DataError
from lssat_framework.interfaces import DatasetInfo, Task

from . import metrics as M


class TaskParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    #: group labels of the dataset to report the headline metric for, e.g. [Male]
    groups: list[str] = Field(default_factory=list)


class LabelledTaskParams(TaskParams):
    #: the dataset label this task reads
    label: str


class BaseTask(Task):
    kind: str = ""

    def __init__(self, label: str, groups: list[str] | None = None):
        self.label = label
        self.groups = list(groups or [])
        self.names: list[str] = []

    def bind(self, info: DatasetInfo) -> int:
        if self.label not in info.labels:
            raise DataError(
                f"task '{type(self).__name__}' reads the label '{self.label}', but the dataset provides "
                f"{sorted(info.labels) or 'no labels'}; set task.params.label or pick another dataset"
            )
        label = info.labels[self.label]
        if label.kind != self.kind:
            raise DataError(f"label '{self.label}' is {label.kind}, but this task needs a {self.kind} label")
        missing = [g for g in self.groups if g not in info.groups]
        if missing:
            raise DataError(f"task groups {missing} are not among the dataset's group labels {sorted(info.groups)}")
        self.names = list(label.names)
        return self.outputs()

    def outputs(self) -> int:
        return len(self.names)

    def metrics(self, logits: torch.Tensor, target: torch.Tensor, extras: dict[str, Any]) -> dict[str, float]:
        logits, target = logits.float().cpu(), target.cpu()
        result = self.split_metrics(logits, target, extras)
        for group in self.groups:
            values = extras["groups"][group].cpu().numpy()
            per_group = {}
            for value in np.unique(values):
                keep = torch.from_numpy(values == value)
                sub = {k: v[keep] for k, v in extras.items() if isinstance(v, torch.Tensor)}
                per_group[int(value)] = self.split_metrics(logits[keep], target[keep], sub)[self.headline]
                result[f"{self.headline}@{group}={int(value)}"] = per_group[int(value)]
            finite = [v for v in per_group.values() if np.isfinite(v)]
            result[f"{self.headline}_gap@{group}"] = float(max(finite) - min(finite)) if finite else float("nan")
        return result

    def split_metrics(self, logits, target, extras) -> dict[str, float]:
        raise NotImplementedError

    def save_artifacts(self, logits: torch.Tensor, target: torch.Tensor, directory: Path, prefix: str) -> list[Path]:
        return []


class DeepfakeParams(TaskParams):
    label: str = "fake"


class DeepfakeTask(BaseTask):
    """Binary real (0) / fake (1): accuracy, ROC-AUC, EER; per video too when frames know their video."""

    kind = "binary"
    headline = "auc"

    def outputs(self) -> int:
        return 1

    def loss(self, logits, target):
        return F.binary_cross_entropy_with_logits(logits.squeeze(-1), target.float())

    def scores(self, logits):
        return torch.sigmoid(logits.squeeze(-1))

    def split_metrics(self, logits, target, extras):
        scores = self.scores(logits).numpy()
        labels = target.numpy().astype(bool)
        result = {
            "acc": float(((scores >= 0.5) == labels).mean()) if len(labels) else float("nan"),
            "auc": M.roc_auc(scores, labels),
            "eer": M.equal_error_rate(scores, labels),
        }
        if "video" in extras:
            videos = extras["video"].numpy()
            ids = np.unique(videos)
            video_scores = np.array([scores[videos == v].mean() for v in ids])
            video_labels = np.array([labels[videos == v][0] for v in ids])
            result["video_acc"] = float(((video_scores >= 0.5) == video_labels).mean())
            result["video_auc"] = M.roc_auc(video_scores, video_labels)
        return result


class AttributesParams(TaskParams):
    label: str = "attributes"
    #: attribute names to predict; null = every attribute of the dataset
    attributes: list[str] | None = None
    #: weigh each attribute's positives by negatives/positives of the training split (imbalance)
    balance: bool = False


class AttributesTask(BaseTask):
    """Multi-label attributes: per-attribute accuracy and their mean (the headline), BCE loss."""

    kind = "multilabel"
    headline = "mean_acc"

    def __init__(self, label="attributes", attributes=None, balance=False, groups=None):
        super().__init__(label, groups)
        self.wanted = attributes
        self.balance = balance
        self.columns: list[int] | None = None
        self.pos_weight: torch.Tensor | None = None

    def bind(self, info):
        super().bind(info)
        rates = info.labels[self.label].positive_rate
        if self.wanted is not None:
            unknown = [a for a in self.wanted if a not in self.names]
            if unknown:
                raise DataError(f"attributes {unknown} are not in the dataset; it has {self.names}")
            self.columns = [self.names.index(a) for a in self.wanted]
            self.names = list(self.wanted)
            rates = [rates[c] for c in self.columns] if rates is not None else None
        if self.balance:
            if rates is None:
                raise DataError(f"task.params.balance: the dataset does not report how often each '{self.label}' label is positive")
            rate = torch.tensor(rates, dtype=torch.float32).clamp(1e-3, 1 - 1e-3)
            self.pos_weight = (1 - rate) / rate
        return self.outputs()

    def select(self, target):
        return target if self.columns is None else target[:, self.columns]

    def loss(self, logits, target):
        weight = None if self.pos_weight is None else self.pos_weight.to(logits.device)
        return F.binary_cross_entropy_with_logits(logits, self.select(target).float(), pos_weight=weight)

    def scores(self, logits):
        return torch.sigmoid(logits)

    def split_metrics(self, logits, target, extras):
        correct = ((logits >= 0).numpy() == self.select(target).numpy().astype(bool))
        per_attribute = correct.mean(axis=0) if len(correct) else np.full(len(self.names), np.nan)
        result = {"mean_acc": float(per_attribute.mean())}
        result.update({f"acc/{name}": float(value) for name, value in zip(self.names, per_attribute)})
        return result


class MulticlassParams(TaskParams):
    label: str = "expression"


class MulticlassTask(BaseTask):
    """Multi-class: accuracy, balanced accuracy (mean recall), macro-F1; confusion matrix PNG."""

    kind = "multiclass"
    headline = "acc"

    def loss(self, logits, target):
        return F.cross_entropy(logits, target.long())

    def scores(self, logits):
        return torch.softmax(logits, dim=-1)

    def split_metrics(self, logits, target, extras):
        matrix = M.confusion_matrix(logits.argmax(-1).numpy(), target.numpy(), len(self.names))
        total = matrix.sum()
        return {
            "acc": float(np.trace(matrix) / total) if total else float("nan"),
            "balanced_acc": M.balanced_accuracy(matrix) if total else float("nan"),
            "macro_f1": M.macro_f1(matrix) if total else float("nan"),
        }

    def save_artifacts(self, logits, target, directory, prefix):
        matrix = M.confusion_matrix(logits.float().argmax(-1).cpu().numpy(), target.cpu().numpy(), len(self.names))
        path = Path(directory) / f"{prefix}confusion.png"
        M.save_confusion_png(matrix, self.names, path)
        return [path]


class GenericMultilabelTask(AttributesTask):
    """Multi-label classification of any dataset label."""

    def __init__(self, label, groups=None):
        super().__init__(label, None, False, groups)


