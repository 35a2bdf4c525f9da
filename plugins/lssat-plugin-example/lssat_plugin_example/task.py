"""One attribute of a multi-label dataset as a binary task, reusing the builtin deepfake metrics."""

from __future__ import annotations

from lssat_framework.errors import DataError
from lssat_tasks import DeepfakeTask

from .params import OneAttributeParams  # noqa: F401 - the params beside the task, as before


class OneAttribute(DeepfakeTask):
    """Accuracy, ROC-AUC and EER of one attribute."""

    kind = "multilabel"

    def __init__(self, attribute: str, label: str = "attributes", groups=None):
        super().__init__(label, groups)
        self.attribute = attribute

    def bind(self, info):
        super().bind(info)
        if self.attribute not in self.names:
            raise DataError(f"one-attribute: '{self.attribute}' is not among the dataset's attributes {self.names}")
        self.column = self.names.index(self.attribute)
        self.names = [f"not {self.attribute}", self.attribute]
        return 1

    def loss(self, logits, target):
        return super().loss(logits, target[:, self.column])

    def split_metrics(self, logits, target, extras):
        return super().split_metrics(logits, target[:, self.column], extras)
