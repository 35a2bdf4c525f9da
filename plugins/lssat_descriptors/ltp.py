"""Local ternary patterns (Tan & Triggs 2010): the LTP descriptor."""

from __future__ import annotations

import torch

from .circular import CircularDescriptor


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
