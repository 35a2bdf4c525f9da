"""Directional descriptors: LDP (Kirsch compass responses) and HOG (gradient orientations).

Input and output as for every descriptor (see the package's docstring); both replicate the edge
pixel at the borders.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from lssat_framework.interfaces import Descriptor

from .compilation import compiled
from .gray import check_images, gray64, gray_levels
from .identity import RGB
from .params import LDPParams, as_list


def edge_padded_levels(images: torch.Tensor, pad: int) -> torch.Tensor:
    """The 8-bit gray levels as float32 ``B×(H+2·pad)×(W+2·pad)``, edge pixels replicated."""
    return F.pad(gray_levels(images, torch.float32).unsqueeze(1), (pad, pad, pad, pad), mode="replicate")[:, 0]


# ------------------------------------------------------------------------ LDP
#: Kirsch compass masks m0 … m7 (east, north-east, north, …, south-east), applied as correlation
KIRSCH = (
    ((-3, -3, 5), (-3, 0, 5), (-3, -3, 5)),
    ((-3, 5, 5), (-3, 0, 5), (-3, -3, -3)),
    ((5, 5, 5), (-3, 0, -3), (-3, -3, -3)),
    ((5, 5, -3), (5, 0, -3), (-3, -3, -3)),
    ((5, -3, -3), (5, 0, -3), (5, -3, -3)),
    ((-3, -3, -3), (5, 0, -3), (5, 5, -3)),
    ((-3, -3, -3), (-3, 0, -3), (5, 5, 5)),
    ((-3, -3, -3), (-3, 0, 5), (-3, 5, 5)),
)


#: the 8 neighbours in circular order, and for each Kirsch mask the ring positions it weighs 5
_RING = ((-1, -1), (-1, 0), (-1, 1), (0, 1), (1, 1), (1, 0), (1, -1), (0, -1))
_KIRSCH_FIVES = tuple(tuple(j for j, (dy, dx) in enumerate(_RING) if mask[dy + 1][dx + 1] == 5) for mask in KIRSCH)


def sort8(values: list[torch.Tensor]) -> list[torch.Tensor]:
    """Eight same-shape tensors sorted elementwise, ascending: a 19-comparator sorting network
    (min/max only, so it is as fast eager as compiled)."""
    values = list(values)
    for a, b in ((0, 2), (1, 3), (4, 6), (5, 7), (0, 4), (1, 5), (2, 6), (3, 7), (0, 1), (2, 3), (4, 5), (6, 7), (2, 4), (3, 5), (1, 4), (3, 6), (1, 2), (3, 4), (5, 6)):
        values[a], values[b] = torch.minimum(values[a], values[b]), torch.maximum(values[a], values[b])
    return values


class LDP(Descriptor):
    """Local directional patterns (Jabid, Kabir & Chae 2010).

    The 8 Kirsch responses ``m_i`` are computed on the 8-bit gray level (edges replicated); the
    ``k`` largest ``|m_i|`` set bit i (ties: the lower index wins). The code (0 … 255) is mapped
    to [0, 1] as ``code / 255``; one channel per scale.
    """

    def __init__(self, k: int = 3, radius: int | list[int] = 1, compile: bool = False):
        super().__init__()
        LDPParams(k=k, radius=radius, compile=compile)  # the same checks when built from Python
        self.k = k
        self.radii = as_list(radius)
        self.channels = len(self.radii)
        self.pad = max(self.radii)
        # two compiled functions for the same reason as CircularDescriptor's
        self._padded_levels = compiled(edge_padded_levels, compile, type(self).__name__)
        self._encode_padded = compiled(type(self).encode_padded, compile, type(self).__name__)

    def codes(self, images: torch.Tensor) -> torch.Tensor:
        """``B×S×H×W`` int64 codes. Responses are small integers, exact in float32."""
        check_images(images)
        return self._encode_padded(self, self._padded_levels(images, self.pad))

    def encode_padded(self, padded: torch.Tensor) -> torch.Tensor:
        """Codes from gray levels edge-padded by ``self.pad`` (float32)."""
        pad = self.pad
        height, width = padded.shape[1] - 2 * pad, padded.shape[2] - 2 * pad
        out = []
        for radius in self.radii:
            ring = [padded[:, pad + dy * radius : pad + dy * radius + height, pad + dx * radius : pad + dx * radius + width] for dy, dx in _RING]
            total = sum(ring[1:], ring[0])
            # a Kirsch mask weighs three adjacent neighbours 5 and the other five −3: m = 8·S3 − 3·T;
            # |m|·8 + (7 − i) is unique and ranks equal magnitudes by the lower index first
            keys = [(8 * (ring[a] + ring[b] + ring[c]) - 3 * total).abs() * 8 + (7 - i) for i, (a, b, c) in enumerate(_KIRSCH_FIVES)]
            # the keys are distinct, so exactly the k keys ≥ the k-th largest set their bit
            kth = sort8(keys)[8 - self.k]
            code = None
            for i in range(8):
                bit = (keys[i] >= kth).to(torch.int64) << i
                code = bit if code is None else code | bit
            out.append(code)
        return torch.stack(out, dim=1)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return (self.codes(images).to(torch.float32) / 255.0).to(images.dtype)


# ------------------------------------------------------------------------ HOG
class HOG(Descriptor):
    """Histograms of oriented gradients as a MaskFeat target (Wei et al. 2022).

    Gradients ``[-1, 0, 1]`` (edges replicated), unsigned orientation hard-assigned to ``bins``
    bins over [0, π), magnitudes summed per ``cell×cell`` cell, each cell histogram L2-normalised
    (so values lie in [0, 1]). Every pixel carries its cell's histogram: output
    ``B×(bins·c)×H×W``, c = 1 (gray) or 3 (rgb). H and W must be multiples of ``cell``.
    """

    def __init__(self, bins: int = 9, cell: int = 8, color: str = "gray"):
        super().__init__()
        self.bins, self.cell, self.color = bins, cell, color
        self.channels = bins * (3 if color == "rgb" else 1)

    def check_image_size(self, image_size: tuple[int, int]) -> None:
        height, width = image_size
        if height % self.cell == 0 and width % self.cell == 0:
            return
        common = math.gcd(height, width)
        cells = [c for c in range(1, common + 1) if common % c == 0]
        nearest = {
            side: sorted({max(self.cell, side // self.cell * self.cell), -(-side // self.cell) * self.cell})
            for side in (height, width) if side % self.cell
        }
        instead = "; ".join(f"{' or '.join(map(str, multiples))} instead of {side}" for side, multiples in nearest.items())
        raise ValueError(
            f"HOG cell={self.cell} does not divide the image size {height}×{width}: set the HOG param cell to one of "
            f"{', '.join(map(str, cells))} (the divisors of both sides), or use sides that are multiples of {self.cell} ({instead})"
        )

    def histograms(self, images: torch.Tensor) -> torch.Tensor:
        """Normalised cell histograms ``B×(bins·c)×H/cell×W/cell``."""
        check_images(images)
        self.check_image_size(tuple(images.shape[-2:]))
        # upcast before the gray sum, so that the histograms do not depend on the input's dtype
        x = gray64(images).to(torch.float32) if self.color == "gray" else RGB()(images).to(torch.float32)
        height, width = x.shape[-2:]
        padded = F.pad(x, (1, 1, 1, 1), mode="replicate")
        gx = padded[:, :, 1:-1, 2:] - padded[:, :, 1:-1, :-2]
        gy = padded[:, :, 2:, 1:-1] - padded[:, :, :-2, 1:-1]
        magnitude = torch.sqrt(gx * gx + gy * gy)
        angle = torch.remainder(torch.atan2(gy, gx), math.pi)  # unsigned, [0, π)
        index = torch.clamp((angle / math.pi * self.bins).floor().long(), max=self.bins - 1)
        batch, channels = x.shape[:2]
        hist = torch.zeros(batch, channels, self.bins, height, width, device=x.device)
        hist.scatter_(2, index.unsqueeze(2), magnitude.unsqueeze(2))
        hist = F.avg_pool2d(hist.flatten(1, 2), self.cell) * self.cell**2
        hist = hist.view(batch, channels, self.bins, height // self.cell, width // self.cell)
        hist = hist / hist.norm(dim=2, keepdim=True).clamp_min(1e-6)
        return hist.flatten(1, 2)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        hist = self.histograms(images)
        out = hist.repeat_interleave(self.cell, dim=2).repeat_interleave(self.cell, dim=3)
        return out.clamp(0, 1).to(images.dtype)
