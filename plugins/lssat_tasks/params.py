"""The params of the builtin tasks (``task.params`` in a spec), pydantic only.

Each model also declares its task's ``headline`` metric (a class variable, no spec key), so that
a sweep's status is read without building the task; the task classes take it from here.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field


class TaskParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    #: group labels of the dataset to report the headline metric for, e.g. [Male]
    groups: list[str] = Field(default_factory=list)


class LabelledTaskParams(TaskParams):
    #: the dataset label this task reads
    label: str


class DeepfakeParams(TaskParams):
    headline: ClassVar[str] = "auc"
    label: str = "fake"


class AttributesParams(TaskParams):
    headline: ClassVar[str] = "mean_acc"
    label: str = "attributes"
    #: attribute names to predict; null = every attribute of the dataset
    attributes: list[str] | None = None
    #: weigh each attribute's positives by negatives/positives of the training split (imbalance)
    balance: bool = False


class MulticlassParams(TaskParams):
    headline: ClassVar[str] = "acc"
    label: str = "expression"


class ClassificationParams(LabelledTaskParams):
    headline: ClassVar[str] = "acc"


class MultilabelParams(LabelledTaskParams):
    headline: ClassVar[str] = "mean_acc"
