"""Centre-symmetric LBP (Heikkilä, Pietikäinen & Schmid, Pattern Recognition 2009).

Instead of comparing each neighbour with the centre, CS-LBP compares the P/2 pairs of opposite
neighbours: bit i = [g_i − g_{i+P/2} > T]. It subclasses the builtin LBP and reuses its exact
circular sampling; only the comparison changes.
"""

from __future__ import annotations

import torch

from lssat_descriptors import LBP

from .params import CSLBPParams  # noqa: F401 - the params beside the descriptor, as before


class CentreSymmetricLBP(LBP):
    def __init__(self, points=8, radius=1.0, threshold: float = 3.0, compile: bool = False):
        super().__init__(points, radius, method="default", compile=compile)
        self.threshold = threshold

    def encode_padded(self, padded: torch.Tensor) -> torch.Tensor:
        """Overrides the builtin's encoding only; ``codes()`` (and ``compile``) come with LBP."""
        out = []
        for sampler in self.samplers:
            samples = list(sampler.samples(padded, self.pad))
            half = sampler.points // 2
            code = torch.zeros(samples[0].shape, dtype=torch.int64, device=padded.device)
            for i in range(half):
                code |= ((samples[i] - samples[i + half]) > self.threshold).to(torch.int64) << i
            out.append(code)
        return torch.stack(out, dim=1)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        top = torch.tensor([2 ** (p // 2) - 1 for p, _ in self.scales], dtype=torch.float32, device=images.device)
        return (self.codes(images).to(torch.float32) / top.view(1, -1, 1, 1)).to(images.dtype)
