"""The MAE auxiliary objective, read top to bottom like ``models_mae.py``.

The backbone encodes a masked view of the ``mask`` modality; a light transformer decoder takes
the encoder's class (prefix) tokens and the patch tokens, inserts mask tokens at the hidden
patches, adds fixed 2-D sin-cos positions (zero at the prefix tokens, as MAE's class-token row)
and predicts, for every patch, the pixels of each ``reconstruct`` modality. The inputs arrive
normalised by the model (docs/method.md), so the targets are the modalities in that space, as
MAE and SSAT reconstruct their normalised images. The loss is the mean squared error over
masked patches only (MAE's ``forward_loss``); several reconstructed modalities average theirs:
``losses["rec_<m>"]`` is modality m's loss divided by their number, so the losses sum to the mean.
"""

from __future__ import annotations

import torch
from timm.layers import trunc_normal_
from timm.models import checkpoint_seq
from timm.models.vision_transformer import Block
from torch import nn

from lssat_framework.interfaces import Backbone, SSLObjective, SSLOutput, match_channels
from lssat_framework.model import count_parameters

from .params import MAEParams  # noqa: F401 - importable from here as before


#: encoders below this size get the small decoder (ViT-Small has 22 M parameters, ViT-Base 86 M)
SMALL_ENCODER_PARAMETERS = 50_000_000


def sincos_2d(dim: int, rows: int, cols: int) -> torch.Tensor:
    """Fixed 2-D sin-cos position embedding ``(rows·cols)×dim`` (half the channels per axis)."""
    if dim % 4:
        raise ValueError(f"decoder_dim must be a multiple of 4 for 2-D sin-cos positions, got {dim}")
    quarter = dim // 4
    omega = 1.0 / 10000 ** (torch.arange(quarter, dtype=torch.float64) / quarter)
    y, x = torch.meshgrid(torch.arange(rows, dtype=torch.float64), torch.arange(cols, dtype=torch.float64), indexing="ij")
    out_y = y.reshape(-1, 1) * omega
    out_x = x.reshape(-1, 1) * omega
    return torch.cat([out_x.sin(), out_x.cos(), out_y.sin(), out_y.cos()], dim=1).float()


def patchify(images: torch.Tensor, patch: int) -> torch.Tensor:
    """``B×C×H×W`` -> ``B×N×(patch·patch·C)``, row-major patches."""
    batch, channels, height, width = images.shape
    rows, cols = height // patch, width // patch
    x = images.reshape(batch, channels, rows, patch, cols, patch)
    return x.permute(0, 2, 4, 3, 5, 1).reshape(batch, rows * cols, patch * patch * channels)


def unpatchify(patches: torch.Tensor, patch: int, channels: int, rows: int, cols: int) -> torch.Tensor:
    batch = patches.shape[0]
    x = patches.reshape(batch, rows, cols, patch, patch, channels)
    return x.permute(0, 5, 1, 3, 2, 4).reshape(batch, channels, rows * patch, cols * patch)


def masked_count(count: int, ratio: float) -> int:
    """Patches hidden out of ``count``, as MAE counts them (``count - int(count·(1 - ratio))``
    kept visible: 177 of 196 at 0.9, where rounding gives 176), but at least one (the loss averages
    over the hidden patches) and at most ``count - 1`` (the encoder needs a visible one)."""
    return min(max(count - int(count * (1 - ratio)), 1), count - 1)


def random_mask(batch: int, count: int, ratio: float, device: torch.device) -> torch.Tensor:
    """``B×N`` bool, exactly :func:`masked_count` True per sample, drawn independently per sample."""
    masked = masked_count(count, ratio)
    order = torch.argsort(torch.rand(batch, count, device=device), dim=1)
    mask = torch.zeros(batch, count, dtype=torch.bool, device=device)
    return mask.scatter_(1, order[:, :masked], True)


class MaskedAutoencoder(SSLObjective):
    """Mask ``mask``, reconstruct ``reconstruct`` (MSE on masked patches only, averaged over the
    reconstructed modalities).

    Each sample hides ``N - int(N·(1 - mask_ratio))`` of its N patches (MAE's count), moved into ``[1, N - 1]`` on small
    grids: at least one patch is hidden, since the loss is a mean over the hidden patches (none
    would make it 0/0), and at least one stays visible for the encoder. A grid of a single patch
    allows neither; :meth:`check_grid` refuses it at validation. Only the ``mask`` modality is fed
    to the backbone; the ``reconstruct`` modalities are decoder targets of any channel count.
    """

    def __init__(self, mask="rgb", reconstruct=("rgb",), mask_ratio=0.75, decoder_dim=None, decoder_depth=None, decoder_heads=None, norm_target=False):
        super().__init__()
        self.mask_modality = mask
        self.reconstruct = list(reconstruct)
        self.modalities = list(dict.fromkeys([mask, *self.reconstruct]))
        self.mask_ratio = mask_ratio
        self.decoder_size = (decoder_dim, decoder_depth, decoder_heads)
        self.norm_target = norm_target
        self.grad_checkpointing = False

    def check_grid(self, grid: tuple[int, int]) -> None:
        rows, cols = grid
        count = rows * cols
        if count < 2:
            raise ValueError(
                f"MAE needs a patch grid of at least 2 patches, one hidden and one visible, but the image gives a "
                f"{rows}×{cols} grid: mask_ratio {self.mask_ratio} would hide {count} - int({count}×(1 - {self.mask_ratio})) = "
                f"{count - int(count * (1 - self.mask_ratio))} of {count} patch(es); use larger images or a backbone with a smaller patch "
                "(or ssl: {name: none})"
            )

    def attach(self, backbone: Backbone, channels: dict[str, int], image_size: tuple[int, int]) -> None:
        small = count_parameters(backbone) < SMALL_ENCODER_PARAMETERS
        dim = self.decoder_size[0] or (128 if small else 512)
        depth = self.decoder_size[1] or (2 if small else 8)
        heads = self.decoder_size[2] or 16  # SSAT's decoder has 16 heads at either size
        self.patch = backbone.patch_size
        self.rows, self.cols = backbone.grid_size(image_size)
        self.channels = {name: channels[name] for name in self.reconstruct}
        self.decoder_embed = nn.Linear(backbone.num_features, dim)
        self.mask_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.register_buffer("decoder_pos", sincos_2d(dim, self.rows, self.cols).unsqueeze(0), persistent=False)
        self.decoder_blocks = nn.Sequential(*[Block(dim, heads, mlp_ratio=4.0, qkv_bias=True) for _ in range(depth)])
        self.decoder_norm = nn.LayerNorm(dim)
        self.heads = nn.ModuleDict({name: nn.Linear(dim, self.patch**2 * c) for name, c in self.channels.items()})
        trunc_normal_(self.mask_token, std=0.02)
        for module in [self.decoder_embed, self.decoder_blocks, self.heads]:
            module.apply(_init_weights)

    def forward(self, backbone: Backbone, inputs: dict[str, torch.Tensor]) -> SSLOutput:
        x = match_channels(inputs[self.mask_modality], backbone.in_chans)
        mask = random_mask(x.shape[0], self.rows * self.cols, self.mask_ratio, x.device)
        z = self.decode(*_encode(backbone, x, mask), mask)

        losses, predictions = {}, {}
        for name, head in self.heads.items():
            prediction = head(z).float()
            loss, shown = self.loss(prediction, patchify(inputs[name].float(), self.patch), mask)
            losses[f"rec_{name}"] = loss / len(self.heads)
            predictions[name] = unpatchify(shown, self.patch, self.channels[name], self.rows, self.cols)
        return SSLOutput(losses=losses, predictions=predictions, mask=mask)

    def decode(self, prefix: torch.Tensor, tokens: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Decoder features ``B×N×dim`` of the patch grid: the encoder's prefix tokens and patch
        tokens embedded, mask tokens at the hidden patches, positions added (none at the prefix,
        MAE's zero row), the blocks and the norm over all of them; the prefix dropped after."""
        count = prefix.shape[1]
        z = self.decoder_embed(torch.cat([prefix, tokens], dim=1))
        grid = torch.where(mask.unsqueeze(-1), self.mask_token.to(z.dtype), z[:, count:])
        z = torch.cat([z[:, :count], grid + self.decoder_pos.to(z.dtype)], dim=1)
        return self.decoder_norm(self._decode(z))[:, count:]

    def loss(self, prediction: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """MAE's loss on patchified ``B×N×P`` tensors: the squared error averaged per patch, then
        over the hidden patches; with ``norm_target`` each target patch is first normalised to zero
        mean and unit variance (``norm_pix_loss``). Also the prediction in the target's space
        (un-normalised per patch), detached, for pictures."""
        shown = prediction.detach()
        if self.norm_target:
            mean = target.mean(dim=-1, keepdim=True)
            std = (target.var(dim=-1, keepdim=True) + 1e-6).sqrt()
            target = (target - mean) / std
            shown = shown * std + mean
        weights = mask.to(torch.float32)
        per_patch = ((prediction - target) ** 2).mean(dim=-1)
        return (per_patch * weights).sum() / weights.sum(), shown

    def set_grad_checkpointing(self, enable: bool = True) -> None:
        self.grad_checkpointing = enable

    def _decode(self, z: torch.Tensor) -> torch.Tensor:
        # ViT-B's decoder (512-d × 8 blocks over every patch) holds more activations than the masked encoder pass
        if self.grad_checkpointing and torch.is_grad_enabled():
            return checkpoint_seq(self.decoder_blocks, z, use_reentrant=False)  # as timm's own ViT blocks
        return self.decoder_blocks(z)


def _encode(backbone: Backbone, x: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The backbone's prefix tokens (``B×P×D``, P = 0 for a backbone that gives none) and its
    patch-grid tokens ``B×N×D`` of the masked input."""
    with_prefix = getattr(backbone, "forward_masked_tokens", None)
    if callable(with_prefix):
        return with_prefix(x, mask)
    tokens = backbone.forward_masked(x, mask)
    return tokens[:, :0], tokens


def _init_weights(module: nn.Module) -> None:
    if isinstance(module, nn.Linear):
        nn.init.xavier_uniform_(module.weight)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, nn.LayerNorm):
        nn.init.ones_(module.weight)
        nn.init.zeros_(module.bias)


class NoObjective(SSLObjective):
    """No auxiliary task: the supervised baseline."""

    modalities: list[str] = []
    mask_modality = None

    def forward(self, backbone: Backbone, inputs: dict[str, torch.Tensor]) -> SSLOutput:
        return SSLOutput()
