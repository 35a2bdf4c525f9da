"""The params of the builtin SSL objectives (``ssl.params`` in a spec), pydantic only.

Each model says which modalities its objective reads (``modalities``), so that a spec is
validated without building the objective (and importing torch).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator


class MAEParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    #: the modality the masked branch sees (``rgb`` or any configured descriptor)
    mask: str = "rgb"
    #: one or more modalities to reconstruct, each in the normalised space the model gives it
    #: (docs/method.md); several average their losses (each `rec_<m>` term is its loss / their number)
    reconstruct: list[str] = Field(default_factory=lambda: ["rgb"], min_length=1)
    mask_ratio: float = Field(0.75, gt=0, lt=1)
    #: decoder size; null picks the SSAT reference's: 128-d × 2 blocks for tiny and small encoders
    #: (under 50 M parameters: ViT-Tiny/Small, ResNet-18/50, ConvNeXt-T), 512-d × 8 blocks for base
    #: and larger; 16 heads at either size
    decoder_dim: int | None = Field(None, ge=8)
    decoder_depth: int | None = Field(None, ge=1)
    decoder_heads: int | None = Field(None, ge=1)
    #: normalise each target patch to zero mean and unit variance (MAE's norm_pix_loss), after the
    #: modality's own normalisation
    norm_target: bool = False

    @field_validator("reconstruct", mode="before")
    @classmethod
    def _one_or_many(cls, value):
        return [value] if isinstance(value, str) else value

    @property
    def modalities(self) -> list[str]:
        """What the objective reads: the masked modality, then the reconstructed ones."""
        return list(dict.fromkeys([self.mask, *self.reconstruct]))


class NoObjectiveParams(BaseModel):
    """``none`` takes no params and reads no modality."""

    model_config = ConfigDict(extra="forbid")

    @property
    def modalities(self) -> list[str]:
        return []
