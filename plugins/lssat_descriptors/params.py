"""The params of the builtin descriptors (``descriptors.<name>.params`` in a spec).

This module imports pydantic only: the spec is validated, and the descriptors listed, without
importing torch. The descriptors themselves are in :mod:`.identity`, :mod:`.lbp`, :mod:`.ltp` and
:mod:`.directional`.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


def as_list(value):
    return list(value) if isinstance(value, (list, tuple)) else [value]


# ------------------------------------------------------------------------ LBP, LTP
LBPMethod = Literal["default", "ror", "uniform", "nri_uniform"]


class CircularParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    #: number of circle points P; a list asks for several scales (channels stacked)
    points: int | list[int] = 8
    #: circle radius R; a list asks for several scales
    radius: float | list[float] = 1.0
    #: fuse the per-pixel work into one loop with ``torch.compile``: 15–25× faster than eager on
    #: the CPU, same codes; needs a C++ compiler (CPU) or Triton (GPU) and compiles for 1–20 s per
    #: image shape on the first call
    compile: bool = False

    @model_validator(mode="after")
    def _scales(self):
        points, radii = as_list(self.points), as_list(self.radius)
        if len(points) > 1 and len(radii) > 1 and len(points) != len(radii):
            raise ValueError(f"points ({len(points)} values) and radius ({len(radii)} values) must have the same length")
        if not points or not radii:
            raise ValueError("points and radius need at least one value each")
        if any(p < 1 or p > 32 for p in points):
            raise ValueError("points must be between 1 and 32")
        if any(r <= 0 for r in radii):
            raise ValueError("radius must be positive")
        return self


class LBPParams(CircularParams):
    method: LBPMethod = "default"


class LTPParams(CircularParams):
    #: dead zone half-width t on the 0–255 scale
    threshold: float = Field(5.0, ge=0)


# ------------------------------------------------------------------------ LDP, HOG
class LDPParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    #: how many of the 8 strongest absolute Kirsch responses set their bit
    k: int = Field(3, ge=1, le=8)
    #: spacing of the 3×3 mask taps (1 = the paper's); a list asks for several scales
    radius: int | list[int] = 1
    #: fuse the per-pixel work into one loop with ``torch.compile`` (as for LBP; same codes)
    compile: bool = False

    @field_validator("radius")
    @classmethod
    def _positive_radii(cls, radius):
        radii = as_list(radius)
        if not radii:
            raise ValueError("radius needs at least one value (1 is the paper's 3×3 mask)")
        if any(r < 1 for r in radii):
            # radius 0 puts every tap on the centre: the responses are all 0 and the code constant
            raise ValueError("radius must be 1 or more pixels (1 is the paper's 3×3 mask)")
        return radius


class HOGParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    #: orientation bins over [0, π)
    bins: int = Field(9, ge=2)
    #: side of a histogram cell in pixels
    cell: int = Field(8, ge=1)
    #: histograms of the gray image, or one per RGB channel (MaskFeat)
    color: Literal["gray", "rgb"] = "gray"
