"""Exact circular sampling and :class:`CircularDescriptor`, the base class of LBP and LTP.

The circles are sampled in float64 to reproduce scikit-image's arithmetic exactly; outside the
image the samples are 0 (scikit-image's ``mode='C'``).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from lssat_framework.interfaces import Descriptor

from .compilation import compiled
from .gray import check_images, gray_levels
from .params import as_list


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


def _scales(points, radius) -> list[tuple[int, float]]:
    points, radii = as_list(points), as_list(radius)
    n = max(len(points), len(radii))
    points = points * n if len(points) == 1 else points
    radii = radii * n if len(radii) == 1 else radii
    return list(zip(points, radii))


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
