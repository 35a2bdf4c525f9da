"""Builtin tasks. Each reads one label of the dataset, sizes its head, owns loss and metrics.

Metrics are computed over the whole split at once (the trainer gathers every process's
outputs first). Tasks given ``groups`` also report their headline metric per group value and
the largest gap between groups (fairness); the gap is NaN when one group's metric is undefined.
"""

from __future__ import annotations

import copy
import sys
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from lssat_framework.errors import DataError
from lssat_framework.interfaces import DatasetInfo, LabelInfo, Task

from . import metrics as M
from .params import AttributesParams, LabelledTaskParams, MulticlassParams, TaskParams  # noqa: F401 - importable from here as before


#: fairness gaps whose NaN was already explained: the log says why once per gap and process
_EXPLAINED_GAPS: set[str] = set()


class BaseTask(Task):
    kind: str = ""

    def __init__(self, label: str, groups: list[str] | None = None):
        self.label = label
        self.groups = list(groups or [])
        self.names: list[str] = []
        #: how many values each reported group has (from the dataset), so every value is reported
        self.group_sizes: dict[str, int] = {}

    def _label_info(self, info: DatasetInfo) -> LabelInfo:
        """The label this task reads, after checking that the dataset fits the task."""
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
        return label

    def bind(self, info: DatasetInfo) -> int:
        self.names = list(self._label_info(info).names)
        self.group_sizes = {g: len(info.groups[g]) for g in self.groups}
        return self.outputs()

    def outputs(self) -> int:
        return len(self.names)

    # ------------------------------------------------------------- metrics
    def metric_names(self, info: DatasetInfo) -> list[str] | None:
        bound = copy.copy(self)  # bind a copy: asking for the names must not change this task
        bound.bind(info)
        names = bound.split_metric_names(info)
        if names is None:
            return None
        for group in self.groups:
            names += [f"{self.headline}@{group}={value}" for value in range(bound.group_sizes[group])]
            names.append(f"{self.headline}_gap@{group}")
        return names

    def split_metric_names(self, info: DatasetInfo) -> list[str] | None:
        """The keys of :meth:`split_metrics` for this bound task (None: not known in advance)."""
        return None

    def metrics(self, logits: torch.Tensor, target: torch.Tensor, extras: dict[str, Any]) -> dict[str, float]:
        logits, target = logits.float().cpu(), target.cpu()
        result = self.split_metrics(logits, target, extras)
        for group in self.groups:
            result.update(self.group_metrics(group, logits, target, extras))
        return result

    def group_metrics(self, group: str, logits, target, extras) -> dict[str, float]:
        """The headline metric for every value of ``group`` (NaN where a value has no sample) and
        the gap between the best and the worst value (NaN when one of them is undefined)."""
        values = extras["groups"][group].cpu()
        present = {int(v) for v in torch.unique(values)}
        per_value, sizes = {}, {}
        for value in sorted(present | set(range(self.group_sizes.get(group, 0)))):
            keep = values == value
            sizes[value] = int(keep.sum())
            sub = {k: v[keep] for k, v in extras.items() if isinstance(v, torch.Tensor)}
            per_value[value] = self.split_metrics(logits[keep], target[keep], sub)[self.headline] if sizes[value] else float("nan")
        result = {f"{self.headline}@{group}={value}": metric for value, metric in per_value.items()}
        gap = f"{self.headline}_gap@{group}"
        undefined = [value for value, metric in per_value.items() if not np.isfinite(metric)]
        if undefined:
            result[gap] = float("nan")
            self._explain_undefined_gap(gap, group, undefined[0], sizes[undefined[0]])
        else:
            result[gap] = float(max(per_value.values()) - min(per_value.values())) if per_value else float("nan")
        return result

    def _explain_undefined_gap(self, gap: str, group: str, value: int, size: int) -> None:
        if gap in _EXPLAINED_GAPS:
            return
        _EXPLAINED_GAPS.add(gap)
        if size == 0:
            why = f"no sample of the split has {group}={value}"
        else:
            why = f"{self.headline}@{group}={value} is undefined on its {size} samples (all of one class?)"
        print(f"lssat: warning: {gap} is NaN: {why}; a gap needs the metric of every group", file=sys.stderr)

    def split_metrics(self, logits, target, extras) -> dict[str, float]:
        raise NotImplementedError

    def chance_level(self, metric: str, target: torch.Tensor, extras: dict[str, Any]) -> float | None:
        """What ``metric`` scores without a model, where a definition exists: the majority class's
        rate for accuracy (always answering it), 1/K for balanced accuracy over K classes present;
        None where there is none (the trainer then measures shuffled predictions)."""
        labels = target.cpu().numpy()
        if metric == "acc":
            return M.majority_rate(labels)
        if metric == "balanced_acc":
            return 1 / len(np.unique(labels)) if len(labels) else None
        return None

    def save_artifacts(self, logits: torch.Tensor, target: torch.Tensor, directory: Path, prefix: str) -> list[Path]:
        return []

    # ---------------------------------------------------------- prediction
    def bound_names(self) -> list[str]:
        if not self.names:
            raise RuntimeError(f"{type(self).__name__}: bind the task to a dataset before asking for its prediction columns")
        return self.names


class AttributesTask(BaseTask):
    """Multi-label attributes: per-attribute accuracy and their mean (the headline), BCE loss."""

    kind = "multilabel"
    headline = AttributesParams.headline

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

    def split_metric_names(self, info):
        return ["mean_acc", *(f"acc/{name}" for name in self.names)]

    def chance_level(self, metric, target, extras):
        """Each attribute's majority rate (always answering its more frequent value), and their mean."""
        per_attribute = [M.majority_rate(column) for column in self.select(target).cpu().numpy().T]
        if metric == "mean_acc":
            return float(np.mean(per_attribute)) if per_attribute else None
        if metric.startswith("acc/") and metric[4:] in self.names:
            return per_attribute[self.names.index(metric[4:])]
        return None

    def prediction_columns(self) -> list[str]:
        """Every attribute's probability; no label column (an image can have several or none)."""
        return [f"p_{name}" for name in self.bound_names()]

    def prediction_row(self, score: torch.Tensor) -> dict[str, Any]:
        return {column: round(float(p), 6) for column, p in zip(self.prediction_columns(), score, strict=True)}


class MulticlassTask(BaseTask):
    """Multi-class: accuracy, balanced accuracy (mean recall), macro-F1; confusion matrix PNG."""

    kind = "multiclass"
    headline = MulticlassParams.headline

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

    def split_metric_names(self, info):
        return ["acc", "balanced_acc", "macro_f1"]

    def prediction_columns(self) -> list[str]:
        """Every class's probability and the most probable class."""
        return [*(f"p_{name}" for name in self.bound_names()), "label"]

    def prediction_row(self, score: torch.Tensor) -> dict[str, Any]:
        row = {column: round(float(p), 6) for column, p in zip(self.prediction_columns()[:-1], score, strict=True)}
        return {**row, "label": self.names[int(score.argmax())]}

    def save_artifacts(self, logits, target, directory, prefix):
        matrix = M.confusion_matrix(logits.float().argmax(-1).cpu().numpy(), target.cpu().numpy(), len(self.names))
        path = Path(directory) / f"{prefix}confusion.png"
        M.save_confusion_png(matrix, self.names, path)
        return [path]


class GenericMultilabelTask(AttributesTask):
    """Multi-label classification of any dataset label."""

    def __init__(self, label, groups=None):
        super().__init__(label, None, False, groups)


