"""The params of the example plugin's three components: pydantic and the builtins' params only.

Keeping them apart from the components lets ``lssat validate`` and ``lssat list`` read them
without importing torch; the components are registered by reference in ``__init__.py``.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field, model_validator

from lssat_descriptors.params import CircularParams
from lssat_tasks.params import TaskParams


class CSLBPParams(CircularParams):
    #: a pair counts when the difference exceeds this, on the 0–255 scale
    threshold: float = Field(3.0, ge=0)

    @model_validator(mode="after")
    def _even_points(self):
        points = self.points if isinstance(self.points, list) else [self.points]
        if any(p % 2 for p in points):
            raise ValueError("centre-symmetric LBP needs an even number of points")
        return self


class SmallConvNetParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    width: int = Field(32, ge=4)
    in_chans: int = Field(3, ge=1)


class OneAttributeParams(TaskParams):
    # the metric that ranks runs, declared here so that a sweep's status needs no built task
    headline: ClassVar[str] = "auc"

    #: the attribute to predict, e.g. Smiling
    attribute: str
    #: the multi-label label of the dataset that holds it
    label: str = "attributes"
