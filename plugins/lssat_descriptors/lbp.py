"""Local binary patterns: scikit-image's encodings of a circle's sign maps, and the LBP descriptor."""

from __future__ import annotations

import torch

from .circular import CircularDescriptor
from .params import LBPMethod


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
