"""Augmentation of the training batch on the device, before any descriptor is computed (so that
the texture targets match the augmented input)."""

from __future__ import annotations

import torch

from ..images import as_unit_float
from ..spec.schema import TrainSpec


def augment(images: torch.Tensor, train: TrainSpec) -> torch.Tensor:
    """Per-sample random resized crop, RandAugment and flip, of floats in [0, 1]."""
    images = as_unit_float(images)
    batch = images.shape[0]
    if train.augment.resized_crop is not None:
        from torchvision.ops import roi_align

        low, high = train.augment.resized_crop
        height, width = images.shape[-2:]
        scale = torch.empty(batch, device=images.device).uniform_(low, high).sqrt()
        h, w = scale * height, scale * width
        y0 = torch.rand(batch, device=images.device) * (height - h)
        x0 = torch.rand(batch, device=images.device) * (width - w)
        boxes = torch.stack([torch.arange(batch, device=images.device, dtype=h.dtype), x0, y0, x0 + w, y0 + h], dim=1)
        images = roi_align(images, boxes.to(images.dtype), output_size=(height, width), aligned=True).clamp(0, 1)
    if train.augment.randaugment is not None:
        from torchvision.transforms import v2

        operations, magnitude = train.augment.randaugment
        randaugment = v2.RandAugment(num_ops=operations, magnitude=magnitude)
        as_bytes = (images * 255).round().to(torch.uint8)
        images = torch.stack([randaugment(image) for image in as_bytes]).to(images.dtype) / 255
    if train.augment.flip:
        flip = torch.rand(batch, device=images.device) < 0.5
        images = torch.where(flip.view(-1, 1, 1, 1), images.flip(-1), images)
    return images
