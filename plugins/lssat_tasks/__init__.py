"""Builtin tasks: deepfake, attributes, emotion, and the generic classification and multilabel.

Registered by reference: the tasks (torch, numpy, the metrics) are imported when a run builds
them; validation needs only :mod:`.params`.
"""

from importlib import import_module

from lssat_framework import hookimpl

from .params import AttributesParams, ClassificationParams, DeepfakeParams, LabelledTaskParams, MulticlassParams, MultilabelParams, TaskParams

#: exported task class -> the module that defines it
_EXPORTS = {
    "BaseTask": "tasks", "AttributesTask": "tasks", "MulticlassTask": "tasks", "GenericMultilabelTask": "tasks",
    "DeepfakeTask": "deepfake",
}

__all__ = [*_EXPORTS, "TaskParams", "LabelledTaskParams", "DeepfakeParams", "AttributesParams", "MulticlassParams", "ClassificationParams", "MultilabelParams"]


def __getattr__(name):
    if name in _EXPORTS:
        return getattr(import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@hookimpl
def register_tasks(register):
    register("deepfake", "lssat_tasks.deepfake:DeepfakeTask", DeepfakeParams, "real/fake: accuracy, balanced accuracy, ROC-AUC, EER, AP (+ per video, per method)")
    register("attributes", "lssat_tasks.tasks:AttributesTask", AttributesParams, "multi-label attributes: per-attribute and mean accuracy")
    register("emotion", "lssat_tasks.tasks:MulticlassTask", MulticlassParams, "expression classes: accuracy, balanced accuracy, macro-F1")
    register("classification", "lssat_tasks.tasks:MulticlassTask", ClassificationParams, "any multi-class label of a dataset")
    register("multilabel", "lssat_tasks.tasks:GenericMultilabelTask", MultilabelParams, "any multi-label label of a dataset")
