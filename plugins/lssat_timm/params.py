"""The params of every timm backbone (``backbone.params`` in a spec)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, FilePath, field_validator, model_validator

#: ``timm.create_model`` arguments the backbone sets itself: headless, weights through ``weights``/``pretrained``
RESERVED_KWARGS = {
    "num_classes": "the backbone is built headless (the task head is separate)",
    "pretrained": "set `pretrained:` beside `kwargs`",
    "pretrained_cfg": "pick the weights with `pretrained:` (a tag) or `weights:` (a file)",
    "pretrained_cfg_overlay": "pick the weights with `pretrained:` (a tag) or `weights:` (a file)",
    "checkpoint_path": "set `weights:` to the file",
}


class TimmParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    #: local weights file (.safetensors, .pth, .pt, .bin) under timm's names, e.g. a run's
    #: backbone.safetensors; a run's model.safetensors is read too (its `backbone.model.` tensors;
    #: head and objective ignored). Loaded strictly: only the classifier may be left out and the
    #: input conv adapted to in_chans; any other missing, unexpected or misshaped tensor is an error
    weights: FilePath | None = None
    #: timm's pretrained weights through the Hugging Face cache (HF_HUB_CACHE or HF_HOME; offline with
    #: HF_HUB_OFFLINE=1): true takes the model's default tag, a string names the tag
    #: (`augreg2_in21k_ft_in1k`), false starts from random weights; null (the default) loads them
    #: when the model name carries a tag (`vit_base_patch16_224.augreg2_in21k_ft_in1k`). `weights`
    #: takes precedence over true
    pretrained: bool | str | None = None
    #: input channels; pretrained input convs are adapted as timm does
    in_chans: int = Field(3, ge=1)
    #: ViT input size: one side, or [height, width]
    img_size: int | tuple[int, int] | None = None
    patch_size: int | None = Field(None, ge=1)
    depth: int | None = Field(None, ge=1)
    embed_dim: int | None = Field(None, ge=1)
    num_heads: int | None = Field(None, ge=1)
    drop_path_rate: float = Field(0.0, ge=0, lt=1)
    masking: Literal["auto", "tokens", "pixels"] = "auto"
    #: further keyword arguments for ``timm.create_model`` (not the named params above)
    kwargs: dict[str, Any] = Field(default_factory=dict)

    @field_validator("img_size")
    @classmethod
    def _positive_size(cls, size):
        sides = size if isinstance(size, tuple) else (size,)
        if size is not None and min(sides) < 1:
            raise ValueError(f"img_size must be positive, got {list(sides) if isinstance(size, tuple) else size}")
        return size

    @field_validator("pretrained")
    @classmethod
    def _tag_is_a_name(cls, pretrained):
        if isinstance(pretrained, str) and (not pretrained.strip() or "." in pretrained):
            raise ValueError(
                f"pretrained takes true, false or a timm tag such as 'augreg2_in21k_ft_in1k', got {pretrained!r}; "
                "a full 'name.tag' goes into the backbone's name"
            )
        return pretrained

    @field_validator("kwargs")
    @classmethod
    def _no_named_param_in_kwargs(cls, kwargs):
        named = [key for key in kwargs if key in cls.model_fields and key != "kwargs"]
        if named:
            keys = ", ".join(f"'{key}'" for key in named)
            raise ValueError(f"{keys} {'is a named param' if len(named) == 1 else 'are named params'}: set {named[0]}: beside kwargs, not inside it")
        for key, fix in RESERVED_KWARGS.items():
            if key in kwargs:
                raise ValueError(f"'{key}' is set by the backbone: {fix}")
        return kwargs

    @model_validator(mode="after")
    def _one_weights_source(self):
        if self.weights is not None and isinstance(self.pretrained, str):
            raise ValueError(
                f"`weights` and `pretrained: {self.pretrained}` name two sources of weights: keep the file or the tag"
            )
        return self
