"""Builtin tasks: deepfake, attributes, emotion, and the generic classification and multilabel."""

from lssat_framework import hookimpl

from .deepfake import DeepfakeParams, DeepfakeTask
from .tasks import (
    AttributesParams,
    AttributesTask,
    BaseTask,
    GenericMultilabelTask,
    LabelledTaskParams,
    MulticlassParams,
    MulticlassTask,
)

__all__ = ["BaseTask", "DeepfakeTask", "AttributesTask", "MulticlassTask"]


@hookimpl
def register_tasks(register):
    register("deepfake", DeepfakeTask, DeepfakeParams, "real/fake: accuracy, balanced accuracy, ROC-AUC, EER, AP (+ per video, per method)")
    register("attributes", AttributesTask, AttributesParams, "multi-label attributes: per-attribute and mean accuracy")
    register("emotion", MulticlassTask, MulticlassParams, "expression classes: accuracy, balanced accuracy, macro-F1")
    register("classification", MulticlassTask, LabelledTaskParams, "any multi-class label of a dataset")
    register("multilabel", GenericMultilabelTask, LabelledTaskParams, "any multi-label label of a dataset")
