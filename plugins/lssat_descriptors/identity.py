"""The identity descriptors: the RGB image itself and its gray image."""

from __future__ import annotations

import torch

from lssat_framework.interfaces import Descriptor

from .gray import check_images, to_gray


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
