"""Texture descriptors: the modalities the L-SSAT auxiliary task masks and reconstructs.

Every descriptor is a parameter-free ``nn.Module``. Input: a float tensor ``B×3×H×W`` (RGB) or
``B×1×H×W`` (gray) with values in [0, 1], on any device. Output: ``B×C×H×W`` in [0, 1], same H×W.

Gray level: RGB is converted with scikit-image's ``rgb2gray`` weights
(0.2125 R + 0.7154 G + 0.0721 B), then the local patterns (LBP, LTP, LDP) quantise it to the
8-bit level ``round(255·gray)`` — the image scikit-image sees when it is given a ``uint8`` image.

Every input is upcast to float64 before the gray conversion, so that codes do not depend on the
input's floating type (a half-precision weighted sum rounds differently). LBP and LTP sample their
circles in float64 to reproduce scikit-image's arithmetic exactly.

Borders: LBP and LTP sample outside the image as 0 (scikit-image's ``mode='C'``); LDP and HOG
replicate the edge pixel.

This module holds the shared gray conversion, the identities, LBP and LTP; LDP and HOG are in
:mod:`.directional`.
"""

from __future__ import annotations

import functools
import math
from typing import Literal

import torch
import torch.nn.functional as F

from lssat_framework.errors import ComponentError
from lssat_framework.interfaces import Descriptor

from .params import CircularParams, LBPMethod, LBPParams, LTPParams, as_list  # noqa: F401 - importable from here as before

GRAY_WEIGHTS = (0.2125, 0.7154, 0.0721)  # skimage.color.rgb2gray


def check_images(images: torch.Tensor) -> None:
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


def compiled(fn, compile: bool, owner: str):
    """``fn`` through ``torch.compile`` when asked, else ``fn`` itself.

    Shapes stay static (one specialised loop per image shape, no dynamic-shape fallback), and
    Triton is told not to fuse a multiply and an add into one instruction: that would change the
    float64 rounding the LBP/LTP codes depend on (the C++ backend never fuses them). A machine that cannot compile gets one clear
    error instead of the compiler's traceback.
    """
    if not compile:
        return fn
    fast = torch.compile(fn, dynamic=False, options={"emulate_precision_casts": True})

    @functools.wraps(fn)
    def call(*args):
        try:
            return fast(*args)
        except torch._dynamo.exc.BackendCompilerFailed as error:
            reason = next((line for line in str(error).splitlines() if line.strip()), type(error).__name__)
            raise ComponentError(
                f"{owner} with compile: true could not be compiled here ({reason}); "
                "install a C++ compiler (CPU) or Triton (GPU), or set compile: false in the descriptor's params"
            ) from error

    return call


# ----------------------------------------------------------------- identities
class RGB(Descriptor):
    """The RGB image itself (identity modality)."""

    channels = 3

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        check_images(images)
        return images if images.shape[1] == 3 else images.expand(-1, 3, -1, -1)


class Gray(Descriptor):
    """The gray image (scikit-image ``rgb2gray`` weights)."""

    channels = 1

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return to_gray(images)


# --------------------------------------------------------- circular sampling
def padded_levels(images: torch.Tensor, pad: int) -> torch.Tensor:
    """The 8-bit gray levels as float64 ``B×(H+2·pad)×(W+2·pad)``, 0 outside the image
    (scikit-image's ``mode='C'``, ``cval=0``); inputs checked by the caller."""
    return F.pad(gray_levels(images, torch.float64), (pad, pad, pad, pad))


class CircularNeighbours:
    """Bilinear samples of P points on a circle of radius R around every pixel.

    Reproduces scikit-image's ``_local_binary_pattern`` arithmetic operation for operation, in
    float64: offsets rounded to 5 decimals, per-pixel weights ``d = (r + dr) - floor(r + dr)``, the
    same order of products and sums, 0 outside the image. The sign tests are therefore identical to
    scikit-image's on every pixel, ties included.
    """

    def __init__(self, points: int, radius: float):
        import numpy as np

        self.points = points
        self.radius = radius
        angles = 2 * np.pi * np.arange(points, dtype=np.float64) / points
        self.row_offsets = np.round(-radius * np.sin(angles), 5).tolist()
        self.col_offsets = np.round(radius * np.cos(angles), 5).tolist()
        #: the zero border ``padded`` needs around the image
        self.pad = int(math.ceil(radius)) + 1

    def samples(self, padded: torch.Tensor, pad: int):
        """Yield, point by point, the sampled gray level as ``B×H×W`` float64.

        ``padded``: gray levels from :func:`padded_levels` with a border ``pad ≥ self.pad``.
        """
        height, width = padded.shape[1] - 2 * pad, padded.shape[2] - 2 * pad
        rows = torch.arange(height, dtype=torch.float64, device=padded.device)
        cols = torch.arange(width, dtype=torch.float64, device=padded.device)

        def window(dy: int, dx: int) -> torch.Tensor:
            return padded[:, pad + dy : pad + dy + height, pad + dx : pad + dx + width]

        for row_offset, col_offset in zip(self.row_offsets, self.col_offsets):
            lo_r, hi_r = math.floor(row_offset), math.ceil(row_offset)
            lo_c, hi_c = math.floor(col_offset), math.ceil(col_offset)
            if lo_r == hi_r and lo_c == hi_c:  # on the pixel grid: (1 - 0)·a + 0·b == a exactly
                yield window(lo_r, lo_c)
                continue
            r, c = rows + row_offset, cols + col_offset
            dr = (r - torch.floor(r)).view(1, height, 1)
            dc = (c - torch.floor(c)).view(1, 1, width)
            top = (1 - dc) * window(lo_r, lo_c) + dc * window(lo_r, hi_c)
            bottom = (1 - dc) * window(hi_r, lo_c) + dc * window(hi_r, hi_c)
            yield (1 - dr) * top + dr * bottom

    def differences(self, padded: torch.Tensor, pad: int):
        """Yield, point by point, ``sample − centre`` as ``B×H×W`` float64."""
        centre = padded[:, pad : padded.shape[1] - pad, pad : padded.shape[2] - pad].contiguous()
        for sample in self.samples(padded, pad):
            yield sample - centre


# ------------------------------------------------------------------------ LBP
def _scales(points, radius) -> list[tuple[int, float]]:
    points, radii = as_list(points), as_list(radius)
    n = max(len(points), len(radii))
    points = points * n if len(points) == 1 else points
    radii = radii * n if len(radii) == 1 else radii
    return list(zip(points, radii))


def lbp_code_count(points: int, method: str) -> int:
    """How many distinct codes the method can produce (codes are 0 … count-1)."""
    return {"default": 2**points, "ror": 2**points, "uniform": points + 2, "nri_uniform": points * (points - 1) + 3}[method]


def encode_bits(bits, points: int, method: str) -> torch.Tensor:
    """Codes ``B×H×W`` (int64) from the P sign maps (bool ``B×H×W``, in point order), as
    scikit-image encodes them. The maps are consumed one at a time, so that no ``B×P×H×W``
    tensor is ever held."""
    code = ones = changes = first_one = first_zero = previous = None
    for p, bit in enumerate(bits):
        if code is None:
            code = torch.zeros(bit.shape, dtype=torch.int64, device=bit.device)
            ones, changes = torch.zeros_like(code), torch.zeros_like(code)
            first_one, first_zero = torch.full_like(code, -1), torch.full_like(code, -1)
        if method in ("default", "ror"):
            code |= bit.to(torch.int64) << p
            continue
        ones += bit
        if previous is not None:  # scikit-image counts the changes along the chain, not round it
            changes += bit != previous
        previous = bit
        if method == "nri_uniform":
            first_one = torch.where((first_one < 0) & bit, p, first_one)
            first_zero = torch.where((first_zero < 0) & ~bit, p, first_zero)
    if method == "default":
        return code
    if method == "ror":  # minimum over the P circular right shifts
        best, rotated = code.clone(), code
        for _ in range(points - 1):
            rotated = (rotated >> 1) | ((rotated & 1) << (points - 1))
            best = torch.minimum(best, rotated)
        return best
    if method == "uniform":
        return torch.where(changes <= 2, ones, torch.full_like(ones, points + 1))
    rot_index = torch.where(first_one == 0, ones - first_zero, points - first_one)
    code = 1 + (ones - 1) * points + rot_index
    code = torch.where(ones == 0, torch.zeros_like(code), code)
    code = torch.where(ones == points, torch.full_like(code, points * (points - 1) + 1), code)
    return torch.where(changes <= 2, code, torch.full_like(code, points * (points - 1) + 2))


class CircularDescriptor(Descriptor):
    """What LBP and LTP share: scales, exact circular sampling, optional compilation.

    A subclass implements :meth:`encode_padded` and :meth:`largest_codes`; ``codes()`` checks the
    input, builds the padded gray levels and calls the first, ``forward`` divides by the second.
    """

    def __init__(self, points: int | list[int], radius: float | list[float], compile: bool):
        super().__init__()
        self.scales = _scales(points, radius)
        self.samplers = [CircularNeighbours(p, r) for p, r in self.scales]
        self.pad = max(sampler.pad for sampler in self.samplers)
        # Two compiled functions, not one: with the padded levels materialised, the sampling loop
        # reads plain windows; fused into it, every neighbour read carries a bounds mask (~5× slower).
        # Unbound functions, so that a copy of the module calls its own buffers.
        self._padded_levels = compiled(padded_levels, compile, type(self).__name__)
        self._encode_padded = compiled(type(self).encode_padded, compile, type(self).__name__)

    def encode_padded(self, padded: torch.Tensor) -> torch.Tensor:
        """Integer codes ``B×C×H×W`` from gray levels zero-padded by ``self.pad`` (float64)."""
        raise NotImplementedError

    def codes(self, images: torch.Tensor) -> torch.Tensor:
        check_images(images)
        return self._encode_padded(self, self._padded_levels(images, self.pad))

    def largest_codes(self) -> list[int]:
        """The largest code of each output channel, which maps to 1."""
        raise NotImplementedError

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        codes = self.codes(images)
        top = torch.tensor(self.largest_codes(), device=codes.device, dtype=torch.float32)
        return (codes / top.view(1, -1, 1, 1)).to(images.dtype)  # int64 / float32: one pass, float32


#: circles up to this many points encode through a 2^P-entry table (one gather per pixel);
#: larger ones from the sign maps directly
TABLE_MAX_POINTS = 16


class LBP(CircularDescriptor):
    """Local binary patterns (Ojala et al. 2002), codes identical to ``skimage.feature.local_binary_pattern``.

    One channel per scale: the code divided by the method's largest code, so values lie in [0, 1].
    """

    def __init__(self, points: int | list[int] = 8, radius: float | list[float] = 1.0, method: LBPMethod = "default", compile: bool = False):
        super().__init__(points, radius, compile)
        self.method = method
        self.channels = len(self.scales)
        for i, (p, _) in enumerate(self.scales):
            table = None
            if method != "default" and p <= TABLE_MAX_POINTS:
                default_codes = torch.arange(2**p)
                table = encode_bits(((default_codes >> j) & 1 == 1 for j in range(p)), p, method)
            self.register_buffer(f"table{i}", table, persistent=False)

    def extra_repr(self) -> str:
        return f"scales={self.scales}, method={self.method!r}"

    def encode_padded(self, padded: torch.Tensor) -> torch.Tensor:
        out = []
        for i, sampler in enumerate(self.samplers):
            bits = (d >= 0 for d in sampler.differences(padded, self.pad))
            table = getattr(self, f"table{i}")
            if table is None:
                out.append(encode_bits(bits, sampler.points, self.method))
            else:
                out.append(table[encode_bits(bits, sampler.points, "default")])
        return torch.stack(out, dim=1)

    def codes(self, images: torch.Tensor) -> torch.Tensor:
        """Integer codes ``B×S×H×W`` (int64), S scales, identical to scikit-image's."""
        return super().codes(images)

    def largest_codes(self) -> list[int]:
        return [lbp_code_count(p, self.method) - 1 for p, _ in self.scales]


# ------------------------------------------------------------------------ LTP
class LTP(CircularDescriptor):
    """Local ternary patterns (Tan & Triggs 2010): per scale two channels, upper and lower code.

    ``s = +1`` where neighbour ≥ centre + t, ``-1`` where neighbour ≤ centre − t, else 0; the upper
    code sets bit i where ``s_i = +1``, the lower code where ``s_i = −1``. Both are divided by
    2^P − 1. Neighbours are sampled as for LBP.
    """

    def __init__(self, points: int | list[int] = 8, radius: float | list[float] = 1.0, threshold: float = 5.0, compile: bool = False):
        super().__init__(points, radius, compile)
        self.threshold = float(threshold)
        self.channels = 2 * len(self.scales)

    def codes(self, images: torch.Tensor) -> torch.Tensor:
        """``B×2S×H×W`` int64: upper and lower codes for each scale (float64 decisions)."""
        return super().codes(images)

    def encode_padded(self, padded: torch.Tensor) -> torch.Tensor:
        out = []
        for sampler in self.samplers:
            upper = lower = None
            for p, diff in enumerate(sampler.differences(padded, self.pad)):
                up, low = (diff >= self.threshold).to(torch.int64) << p, (diff <= -self.threshold).to(torch.int64) << p
                upper, lower = (up, low) if upper is None else (upper | up, lower | low)
            out += [upper, lower]
        return torch.stack(out, dim=1)

    def largest_codes(self) -> list[int]:
        return [2**p - 1 for p, _ in self.scales for _ in ("upper", "lower")]
