"""A timm model as an L-SSAT backbone.

Masked path, chosen by ``masking``:

* ``tokens`` (ViT family, the default where it applies): MAE token dropping. The encoder sees
  only the visible patch tokens (plus its class/register tokens); masked positions are filled by
  the objective's mask token.
* ``pixels`` (CNNs, hierarchical models; any model with a feature map): SimMIM-style. Masked
  patches of the input are replaced by a learned per-channel token, the whole image goes through
  the network, and the final feature map gives one token per ``reduction × reduction`` patch.

Both paths also give the encoder's prefix tokens (class, register tokens; none from a feature
map) to an objective that asks for them (:meth:`TimmBackbone.forward_masked_tokens`), as MAE's
decoder carries the class token. :meth:`TimmBackbone.image_normalisation` is the input mean and
std the weights expect: the timm data config of the pretrained tag they come from, ImageNet's for
weights without a tag (random ones, or a file given to a model name without a tag).

With :meth:`TimmBackbone.set_grad_checkpointing` both paths recompute their activations in the
backward pass: the task path through timm's own switch, the token path block by block here, the
pixel path through timm's ``forward_features``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.utils.checkpoint import checkpoint

from lssat_framework.errors import ComponentError
from lssat_framework.interfaces import IMAGENET_MEAN, IMAGENET_STD, Backbone

from .params import TimmParams
from .weights import create_model, pretrained_name

__all__ = ["TimmBackbone", "TimmParams"]


def _is_vit(model: nn.Module) -> bool:
    return all(hasattr(model, attr) for attr in ("patch_embed", "blocks", "_pos_embed", "num_prefix_tokens")) and not getattr(
        model, "dynamic_img_size", False
    )


def _data_config_stats(model: nn.Module) -> dict[str, tuple[float, ...]]:
    """The mean and std of timm's data config for the model's pretrained cfg."""
    from timm.data import resolve_model_data_config

    config = resolve_model_data_config(model)
    return {key: tuple(float(v) for v in config[key]) for key in ("mean", "std")}


class TimmBackbone(Backbone):
    def __init__(
        self,
        model_name: str,
        weights: Path | None = None,
        pretrained: bool | str | None = None,
        in_chans: int = 3,
        img_size: int | tuple[int, int] | None = None,
        patch_size: int | None = None,
        depth: int | None = None,
        embed_dim: int | None = None,
        num_heads: int | None = None,
        drop_path_rate: float = 0.0,
        masking: str = "auto",
        kwargs: dict[str, Any] | None = None,
    ):
        super().__init__()
        options = dict(
            in_chans=in_chans, img_size=img_size, patch_size=patch_size, depth=depth, embed_dim=embed_dim,
            num_heads=num_heads, drop_path_rate=drop_path_rate or None, **(kwargs or {}),
        )
        options = {key: value for key, value in options.items() if value is not None}
        self.model = create_model(model_name, options, weights, pretrained)
        self.model_name = model_name
        tagged = pretrained_name(model_name, None if weights is not None else pretrained)[1] is not None
        self.normalisation = _data_config_stats(self.model) if tagged else {"mean": IMAGENET_MEAN, "std": IMAGENET_STD}
        self.in_chans = in_chans
        self.num_features = self.model.num_features
        # a head with a hidden layer of its own (MobileNetV3/V4, GhostNet, LCNet, HGNetV2: timm's
        # head_hidden_size) is wider than the feature map, whose width the masked path's tokens
        # have: the pooled features are then the map's average, one width D for both paths
        self.pools_map = getattr(self.model, "head_hidden_size", self.num_features) != self.num_features
        vit = _is_vit(self.model)
        if masking == "tokens" and not vit:
            raise ComponentError(f"backbone '{model_name}' has no ViT token sequence: use masking 'pixels' or 'auto'")
        self.masking = "tokens" if (vit and masking != "pixels") else "pixels"
        self.grad_checkpointing = False
        if self.masking == "tokens":
            self.patch_size = self.model.patch_embed.patch_size[0]
            self.image_size = tuple(self.model.patch_embed.img_size)
        else:
            info = getattr(self.model, "feature_info", None)
            if not info:
                raise ComponentError(f"backbone '{model_name}' exposes neither ViT blocks nor a feature map (feature_info)")
            self.patch_size = int(info[-1]["reduction"])
            self.mask_token = nn.Parameter(torch.zeros(1, in_chans, 1, 1))

    def extra_repr(self) -> str:
        return f"model={self.model_name!r}, masking={self.masking!r}, patch_size={self.patch_size}"

    def export_state_dict(self) -> dict[str, torch.Tensor]:
        """The timm model's weights under timm's names: loadable again as ``weights:``."""
        return self.model.state_dict()

    def set_grad_checkpointing(self, enable: bool = True) -> None:
        """Activation checkpointing in both passes (``train.grad_checkpointing``)."""
        try:
            self.model.set_grad_checkpointing(enable)
        except (AssertionError, NotImplementedError, AttributeError) as exc:  # timm asserts where a model has none
            raise ComponentError(f"backbone '{self.model_name}' cannot checkpoint its activations ({exc or 'not supported'}); set train.grad_checkpointing: false") from None
        self.grad_checkpointing = enable

    def group_matcher(self, coarse: bool = False):
        """timm's layer grouping (stem, blocks, final norm; unmatched tensors at the top) over this
        backbone's parameter names, for layer-wise lr decay; the pixel path's mask token enters
        with the input, in the stem."""
        from lssat_framework.model.layer_groups import prefix_group_matcher, with_stem_pattern

        matcher = getattr(self.model, "group_matcher", None)
        if matcher is None:
            raise ComponentError(f"backbone '{self.model_name}' does not group its layers (timm gives it no group_matcher); remove train.layer_decay")
        return with_stem_pattern(prefix_group_matcher(matcher(coarse=coarse), "model."), r"^mask_token$")

    def forward_pooled(self, x: torch.Tensor) -> torch.Tensor:
        if self.pools_map:
            return self._feature_map(self.model.forward_features(x)).mean(dim=(2, 3))
        return self.model(x)

    def _feature_map(self, features: torch.Tensor) -> torch.Tensor:
        """``features`` as an NCHW map of ``num_features`` channels."""
        if features.ndim != 4:
            raise ComponentError(f"backbone '{self.model_name}' returned features of shape {tuple(features.shape)}, not a map")
        if features.shape[1] != self.num_features and features.shape[-1] == self.num_features:
            features = features.permute(0, 3, 1, 2)  # NHWC (e.g. Swin) -> NCHW
        return features

    def image_normalisation(self) -> dict[str, tuple[float, ...]]:
        """The mean and std per RGB channel the weights expect (see the module's docstring)."""
        return dict(self.normalisation)

    def forward_masked(self, x: torch.Tensor, mask: torch.Tensor, prefix: bool = False):
        """The grid tokens ``B×N×D``; with ``prefix``, ``(prefix B×P×D, grid B×N×D)``, the
        encoder's class/register tokens too (:meth:`forward_masked_tokens`, which goes through
        here so that a fault in the masked path is on ``forward_masked``'s traceback, where the
        dry check looks for the backbone's)."""
        if self.masking == "tokens":
            tokens = self._forward_visible_tokens(x, mask)
        else:
            grid = self._forward_masked_pixels(x, mask)
            tokens = grid[:, :0], grid
        return tokens if prefix else tokens[1]

    def forward_masked_tokens(self, x: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(prefix B×P×D, grid B×N×D)``: the encoder's class/register tokens and the patch grid."""
        return self.forward_masked(x, mask, prefix=True)

    def _forward_visible_tokens(self, x: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        model = self.model
        embedded = model._pos_embed(model.patch_embed(x))  # positions added before dropping
        # EVA-family ViTs (EVA02, RoPE ViTs) also return their rotary embedding of the patch grid
        tokens, rope = embedded if isinstance(embedded, tuple) else (embedded, None)
        prefix_count = model.num_prefix_tokens
        prefix, patches = tokens[:, :prefix_count], tokens[:, prefix_count:]
        batch, count, dim = patches.shape
        visible = int(count - mask[0].sum())
        # stable sort puts the visible (False) positions first, in grid order
        keep = torch.argsort(mask.to(torch.int8), dim=1, stable=True)[:, :visible]
        kept = torch.gather(patches, 1, keep.unsqueeze(-1).expand(-1, -1, dim))
        tokens = model.norm_pre(torch.cat([prefix, kept], dim=1))
        encoded = model.norm(self._blocks(tokens, None if rope is None else self._kept_rope(rope, keep, kept)))
        out = encoded.new_zeros(batch, count, dim)
        return encoded[:, :prefix_count], out.scatter(1, keep.unsqueeze(-1).expand(-1, -1, dim), encoded[:, prefix_count:])

    def _kept_rope(self, rope: torch.Tensor, keep: torch.Tensor, kept: torch.Tensor) -> torch.Tensor:
        """The rotary embedding rows of the kept patches, shaped as timm's own patch dropout leaves them."""
        from timm.layers import apply_keep_indices_nlc

        rope = apply_keep_indices_nlc(kept, rope, keep)
        # mixed (per-depth) rope: B×depth×heads×N×d -> depth first; axial: B×N×d -> B×1×N×d (head axis)
        return rope.transpose(0, 1) if getattr(self.model, "rope_mixed", False) else rope.unsqueeze(1)

    def _blocks(self, tokens: torch.Tensor, rope: torch.Tensor | None) -> torch.Tensor:
        per_block = getattr(self.model, "rope_mixed", False)
        for depth, block in enumerate(self.model.blocks):
            kwargs = {} if rope is None else {"rope": rope[depth] if per_block else rope}
            if self.grad_checkpointing and torch.is_grad_enabled():
                # the RNG state is saved with the inputs: drop path draws the same in the recomputation
                tokens = checkpoint(block, tokens, use_reentrant=False, **kwargs)
            else:
                tokens = block(tokens, **kwargs)
        return tokens

    def _forward_masked_pixels(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        rows, cols = self.grid_size(tuple(x.shape[-2:]))
        pixel_mask = self.pixel_mask(mask, x.shape[-2:]).to(x.dtype)
        x = x * (1 - pixel_mask) + self.mask_token.to(x.dtype) * pixel_mask
        features = self._feature_map(self.model.forward_features(x))
        if features.shape[-2:] != (rows, cols):
            raise ComponentError(
                f"backbone '{self.model_name}' gave a {features.shape[-2]}×{features.shape[-1]} feature map, expected {rows}×{cols}"
            )
        return features.flatten(2).transpose(1, 2)
