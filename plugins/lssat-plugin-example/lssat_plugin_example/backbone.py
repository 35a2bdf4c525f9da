"""A small CNN backbone written from scratch: four stages of stride 2, 16-pixel masking patches."""

from __future__ import annotations

import torch
from torch import nn

from lssat_framework.interfaces import Backbone

from .params import SmallConvNetParams  # noqa: F401 - the params beside the backbone, as before


class SmallConvNet(Backbone):
    def __init__(self, width: int = 32, in_chans: int = 3):
        super().__init__()
        self.in_chans, self.patch_size, self.num_features = in_chans, 16, width * 8
        layers, channels = [], in_chans
        for stage in range(4):
            out = width * 2**stage
            layers += [nn.Conv2d(channels, out, 3, stride=2, padding=1), nn.BatchNorm2d(out), nn.GELU()]
            channels = out
        self.features = nn.Sequential(*layers)
        self.mask_token = nn.Parameter(torch.zeros(1, in_chans, 1, 1))

    def forward_pooled(self, x: torch.Tensor) -> torch.Tensor:
        return self.features(x).mean(dim=(2, 3))

    def forward_masked(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        hidden = self.pixel_mask(mask, x.shape[-2:]).to(x.dtype)
        x = x * (1 - hidden) + self.mask_token * hidden  # SimMIM-style pixel masking
        return self.features(x).flatten(2).transpose(1, 2)
