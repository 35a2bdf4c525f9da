"""The input check and the gray levels every descriptor starts from.

Gray level: RGB is converted with scikit-image's ``rgb2gray`` weights
(0.2125 R + 0.7154 G + 0.0721 B), then the local patterns (LBP, LTP, LDP) quantise it to the
8-bit level ``round(255·gray)`` — the image scikit-image sees when it is given a ``uint8`` image.

Every input is upcast to float64 before the gray conversion, so that codes do not depend on the
input's floating type (a half-precision weighted sum rounds differently).
"""

from __future__ import annotations

import torch

GRAY_WEIGHTS = (0.2125, 0.7154, 0.0721)  # skimage.color.rgb2gray


def check_images(images: torch.Tensor) -> None:
    """Raise ``ValueError`` unless ``images`` is a floating ``B×1×H×W`` or ``B×3×H×W`` tensor in [0, 1]."""
    if not isinstance(images, torch.Tensor):
        raise ValueError(f"expected a torch.Tensor, got {type(images).__name__}")
    if images.ndim != 4:
        raise ValueError(f"expected a batch B×C×H×W (4 dimensions), got shape {tuple(images.shape)}")
    if images.shape[1] not in (1, 3):
        raise ValueError(f"expected 1 (gray) or 3 (RGB) channels, got {images.shape[1]}")
    if not images.is_floating_point():
        raise ValueError(f"expected a floating-point tensor with values in [0, 1], got dtype {images.dtype}")
    if torch.compiler.is_compiling() or not images.numel():
        return  # inside a compiled model the test of the values would split its graph (and wait for the device)
    low, high = torch.aminmax(images)  # one pass for both
    if low < 0 or high > 1:
        raise ValueError(f"expected values in [0, 1], got [{float(low):.4g}, {float(high):.4g}]; divide 8-bit images by 255")


def to_gray(images: torch.Tensor) -> torch.Tensor:
    """``B×1×H×W`` gray in [0, 1] (scikit-image's ``rgb2gray`` weights), in the input's dtype."""
    check_images(images)
    return gray64(images).to(images.dtype)


def gray64(images: torch.Tensor) -> torch.Tensor:
    """``B×1×H×W`` gray as float64 (inputs checked by the caller).

    Upcast before the weighted sum: in float16 or bfloat16 the sum rounds, and 3 % (float16) to
    14 % (bfloat16) of the LBP codes of a photograph changed with the input's dtype. Channel by
    channel, so that no float64 copy of the whole RGB batch is held.
    """
    if images.shape[1] == 1:
        return images.to(torch.float64)
    gray = None
    for channel, weight in enumerate(GRAY_WEIGHTS):
        term = images[:, channel : channel + 1].to(torch.float64) * weight
        gray = term if gray is None else gray + term
    return gray


def gray_levels(images: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """The 8-bit gray level ``round(255·gray)`` as ``dtype``, shape ``B×H×W`` (inputs checked by the caller)."""
    return torch.round(gray64(images)[:, 0] * 255).to(dtype)
