"""``lfw-sbi``: real LFW face crops and self-blended fakes, with no download.

The 100 face crops that scikit-image ships (``skimage.data.lfw_subset()``, 25×25 gray) are the
real images. A fake is a self-blended image (Shiohara & Yamasaki, CVPR 2022): the face blended
with a slightly altered copy of itself (contrast and brightness, blur or sharpening, a small
scale and shift) inside a soft inner-face mask, so that only blending and texture betray it.
Faces 0–69 train, 70–84 validate, 85–99 test: a photograph is in one split only.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import Dataset

from lssat_framework.interfaces import DatasetInfo, DatasetSource, LabelInfo

from .params import LfwSbiParams

RANGES = {"train": range(0, 70), "val": range(70, 85), "test": range(85, 100)}


def _faces() -> torch.Tensor:
    from skimage import data

    return torch.from_numpy(np.asarray(data.lfw_subset()[:100], dtype=np.float32))


def self_blend(face: torch.Tensor, rng: np.random.Generator) -> torch.Tensor:
    """A self-blended fake of ``face`` (``3×S×S`` in [0, 1])."""
    size = face.shape[-1]
    source = face * rng.uniform(0.85, 1.15) + rng.uniform(-0.08, 0.08)
    blur = F.avg_pool2d(F.pad(source[None], (1, 1, 1, 1), mode="replicate"), 3, stride=1)[0]
    source = blur if rng.random() < 0.5 else source + rng.uniform(0.5, 1.5) * (source - blur)
    scale = rng.uniform(0.95, 1.05)
    shift = rng.uniform(-0.04, 0.04, 2)
    theta = torch.tensor([[scale, 0.0, shift[0]], [0.0, scale, shift[1]]], dtype=torch.float32)
    grid = F.affine_grid(theta[None], [1, 3, size, size], align_corners=False)
    source = F.grid_sample(source[None], grid, padding_mode="border", align_corners=False)[0]

    coords = (torch.arange(size, dtype=torch.float32) + 0.5) / size * 2 - 1
    yy, xx = torch.meshgrid(coords, coords, indexing="ij")
    cy, cx = rng.uniform(0.0, 0.15), rng.uniform(-0.08, 0.08)
    ry, rx = rng.uniform(0.45, 0.6), rng.uniform(0.35, 0.5)
    distance = ((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2
    mask = torch.clamp((1.3 - distance) / 0.6, 0, 1)  # soft edge
    alpha = float(rng.choice([0.5, 0.75, 1.0]))
    return (face * (1 - alpha * mask) + source * alpha * mask).clamp(0, 1)


class _Split(Dataset):
    def __init__(self, faces: torch.Tensor, split: str, params: LfwSbiParams):
        self.ids = list(RANGES[split])
        self.split, self.params = split, params
        self.faces = faces
        self.per_image = 1 + params.fakes_per_image

    def __len__(self) -> int:
        return len(self.ids) * self.per_image

    def __getitem__(self, index: int) -> dict:
        photo, variant = divmod(index, self.per_image)
        face_id = self.ids[photo]
        size = self.params.image_size
        face = F.interpolate(self.faces[face_id][None, None], size=(size, size), mode="bilinear", align_corners=False)[0].expand(3, -1, -1)
        face = face.clamp(0, 1)
        if variant:
            rng = np.random.default_rng([self.params.seed, face_id, variant])
            face = self_blend(face, rng)
        return {"image": face.contiguous(), "labels": {"fake": torch.tensor(int(variant > 0))}, "index": index}


class LfwSbi(DatasetSource):
    """Real LFW faces shipped with scikit-image and their self-blended fakes."""

    splits = ("train", "val", "test")

    def __init__(self, **params):
        self.params = LfwSbiParams(**params)
        self.faces = _faces()
        size = self.params.image_size
        self.info = DatasetInfo(labels={"fake": LabelInfo("binary", ["real", "fake"])}, image_size=(size, size))

    def split(self, name: str) -> Dataset:
        return _Split(self.faces, name, self.params)
