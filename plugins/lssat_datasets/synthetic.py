"""``synthetic-faces``: procedurally drawn faces labelled for all three tasks of the study.

Every image is drawn from a random generator seeded by (seed, split, index), so the data is the
same on every machine and in every process, at any size, with nothing to download.

* expression (7 classes, AffectNet's order): mouth shape, brow angle and height, eye opening;
* attributes (CelebA names): Eyeglasses, Smiling, No_Beard, Bangs, Pale_Skin; group label Male;
* fake: real images carry a sensor-like grain; a fake has an inner-face region blended in whose
  *local texture* differs (grain removed, 2× nearest resampling, or the checkerboard of a
  transposed-convolution upsampler) while its colour and shape stay those of the face — so
  texture targets have something to find.
"""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import Dataset

from lssat_framework.interfaces import DatasetInfo, DatasetSource, LabelInfo

from .params import MANIPULATIONS, SyntheticFacesParams

EXPRESSIONS = ["Neutral", "Happy", "Sad", "Surprise", "Fear", "Disgust", "Anger"]
ATTRIBUTES = ["Eyeglasses", "Smiling", "No_Beard", "Bangs", "Pale_Skin"]
SPLIT_CODES = {"train": 0, "val": 1, "test": 2}

# per expression: brow tilt (+ = inner end up), brow lift, eye opening, mouth shape, mouth curvature
_EXPRESSION_SHAPES = {
    0: (0.0, 0.0, 1.0, "line", 0.0),
    1: (0.0, 0.02, 0.7, "line", -1.0),
    2: (0.5, 0.0, 0.85, "line", 1.0),
    3: (0.0, 0.10, 1.45, "round", 0.0),
    4: (0.6, 0.08, 1.35, "wide", 0.0),
    5: (-0.2, -0.03, 0.75, "tilted", 0.0),
    6: (-0.7, -0.04, 0.8, "thick", 0.0),
}


def _grid(size: int) -> tuple[np.ndarray, np.ndarray]:
    """Row and column coordinates of the pixel centres, in [-1, 1]."""
    coords = (np.arange(size, dtype=np.float32) + 0.5) / size * 2 - 1
    return np.meshgrid(coords, coords, indexing="ij")


def _ellipse(yy, xx, cy, cx, ry, rx, angle=0.0):
    cos, sin = np.cos(angle), np.sin(angle)
    y, x = yy - cy, xx - cx
    u, v = x * cos + y * sin, -x * sin + y * cos
    return (u / rx) ** 2 + (v / ry) ** 2


def _soft(distance, edge):
    """1 inside (distance < 1), 0 outside, a linear ramp of width ``edge`` between."""
    return np.clip((1 + edge - distance) / edge, 0, 1)


def _segment(yy, xx, y0, x0, y1, x1, width):
    py, px = yy - y0, xx - x0
    dy, dx = y1 - y0, x1 - x0
    t = np.clip((py * dy + px * dx) / (dy * dy + dx * dx), 0, 1)
    return np.hypot(py - t * dy, px - t * dx) < width


def _paint(img, mask, color):
    mask = mask.astype(np.float32)[..., None]
    img *= 1 - mask
    img += mask * np.asarray(color, dtype=np.float32)


def draw_face(rng: np.random.Generator, size: int, expression: int, attrs: dict[str, bool], male: bool) -> np.ndarray:
    """A clean face ``size×size×3`` in [0, 1] (no grain yet)."""
    yy, xx = _grid(size)
    j = lambda scale: rng.uniform(-scale, scale)  # noqa: E731 - jitter

    top, bottom = rng.uniform(0.2, 0.9, 3), rng.uniform(0.2, 0.9, 3)
    t = ((yy + 1) / 2)[..., None]
    img = ((1 - t) * top + t * bottom).astype(np.float32)

    cy, cx = j(0.05), j(0.05)
    ry, rx = 0.72 + j(0.05), 0.56 + j(0.05)
    skin = np.array([0.93, 0.85, 0.8]) + j(0.03) if attrs["Pale_Skin"] else np.array([0.78, 0.58, 0.45]) * rng.uniform(0.6, 1.1)
    hair = np.array([0.12, 0.08, 0.05]) * rng.uniform(0.5, 3.0)
    face = _ellipse(yy, xx, cy, cx, ry, rx) < 1
    hair_len = 0.3 if male else 0.9
    hair_shape = (_ellipse(yy, xx, cy - 0.08, cx, ry + 0.12, rx + 0.1) < 1) & (yy < cy + hair_len * ry)
    _paint(img, hair_shape, hair)
    _paint(img, face, np.clip(skin, 0, 1))
    if attrs["Bangs"]:
        _paint(img, face & (yy < cy - 0.45 * ry + 0.05 * np.sin(xx * 20)), hair)
    if not attrs["No_Beard"]:
        beard = face & (yy > cy + 0.25 * ry) & (_ellipse(yy, xx, cy + 0.45 * ry, cx, 0.12, 0.22) > 1)
        _paint(img, beard, hair * 1.2)

    tilt, lift, opening, mouth, curve = _EXPRESSION_SHAPES[expression]
    eye_y = cy - 0.18 * ry + j(0.02)
    for side in (-1, 1):
        ex = cx + side * 0.38 * rx
        eye_ry = 0.07 * opening + j(0.005)
        _paint(img, _ellipse(yy, xx, eye_y, ex, eye_ry, 0.12) < 1, (0.97, 0.97, 0.95))
        _paint(img, _ellipse(yy, xx, eye_y, ex, min(eye_ry, 0.05), 0.05) < 1, (0.1, 0.07, 0.05))
        brow_y = eye_y - 0.15 - lift
        inner, outer = ex - side * 0.12, ex + side * 0.14
        _paint(img, _segment(yy, xx, brow_y - 0.06 * tilt, inner, brow_y + 0.03 * tilt, outer, 0.025), hair)
        if attrs["Eyeglasses"]:
            ring = _ellipse(yy, xx, eye_y, ex, 0.13, 0.18)
            _paint(img, (ring < 1) & (ring > 0.72), (0.05, 0.05, 0.05))
    if attrs["Eyeglasses"]:
        _paint(img, _segment(yy, xx, eye_y, cx - 0.04, eye_y, cx + 0.04, 0.015), (0.05, 0.05, 0.05))

    _paint(img, _segment(yy, xx, cy - 0.05, cx, cy + 0.2 * ry, cx + 0.03, 0.02), np.clip(skin * 0.8, 0, 1))
    my, mx, width = cy + 0.5 * ry + j(0.02), cx + j(0.02), 0.22 + j(0.03)
    lips = (0.55, 0.15, 0.15)
    if mouth == "round":
        _paint(img, _ellipse(yy, xx, my, mx, 0.1, 0.08) < 1, (0.2, 0.02, 0.02))
    elif mouth == "wide":
        _paint(img, _ellipse(yy, xx, my, mx, 0.06, 0.2) < 1, (0.2, 0.02, 0.02))
    elif mouth == "tilted":
        _paint(img, _segment(yy, xx, my + 0.04, mx - width, my - 0.05, mx + width, 0.025), lips)
    else:
        u = np.clip((xx - mx) / width, -1, 1)
        line = np.abs(yy - (my + 0.12 * curve * (u**2 - 0.5))) < (0.045 if mouth == "thick" else 0.025)
        _paint(img, line & (np.abs(xx - mx) < width), lips)
    return np.clip(img, 0, 1)


def _inner_face_mask(rng, size):
    yy, xx = _grid(size)
    d = _ellipse(yy, xx, rng.uniform(-0.05, 0.2), rng.uniform(-0.08, 0.08), rng.uniform(0.4, 0.55), rng.uniform(0.35, 0.45))
    return _soft(d, 0.25).astype(np.float32)[..., None]


def render(seed: int, split: str, index: int, size: int, fake_ratio: float, manipulations=MANIPULATIONS) -> dict:
    """One labelled sample, determined by (seed, split, index)."""
    rng = np.random.default_rng([seed, SPLIT_CODES[split], index])
    expression = int(rng.integers(len(EXPRESSIONS)))
    male = bool(rng.random() < 0.5)
    attrs = {
        "Eyeglasses": bool(rng.random() < 0.3),
        "Smiling": expression == 1,
        "No_Beard": not (male and rng.random() < 0.5),
        "Bangs": bool(rng.random() < 0.3),
        "Pale_Skin": bool(rng.random() < 0.2),
    }
    fake = bool(rng.random() < fake_ratio)
    clean = draw_face(rng, size, expression, attrs, male)
    grain = rng.uniform(0.02, 0.04)
    real = clean + rng.normal(0, grain, clean.shape).astype(np.float32)
    image = real
    if fake:
        kind = manipulations[int(rng.integers(len(manipulations)))]
        if kind == "smooth":  # grain removed: a smooth, over-processed skin
            swapped = clean + rng.normal(0, grain * 0.1, clean.shape).astype(np.float32)
        elif kind == "resample":  # 2x nearest resampling: blocky texture
            even = size - size % 2
            small = real[:even, :even].reshape(even // 2, 2, even // 2, 2, 3).mean(axis=(1, 3))
            swapped = real.copy()
            swapped[:even, :even] = small.repeat(2, axis=0).repeat(2, axis=1)
        else:  # checkerboard artefact of a transposed-convolution upsampler
            checker = ((np.indices((size, size)).sum(axis=0) % 2) * 2 - 1).astype(np.float32)[..., None]
            swapped = clean + rng.normal(0, grain * 0.5, clean.shape).astype(np.float32) + checker * rng.uniform(0.03, 0.06)
        swapped = swapped + rng.uniform(-0.03, 0.03, 3).astype(np.float32)  # plausible colour drift
        mask = _inner_face_mask(rng, size)
        image = real * (1 - mask) + swapped * mask
    image = np.clip(image, 0, 1).transpose(2, 0, 1)
    return {
        "image": torch.from_numpy(np.ascontiguousarray(image, dtype=np.float32)),
        "labels": {
            "fake": torch.tensor(int(fake)),
            "expression": torch.tensor(expression),
            "attributes": torch.tensor([float(attrs[a]) for a in ATTRIBUTES]),
        },
        "groups": {"Male": torch.tensor(int(male))},
        "index": index,
    }


class _Split(Dataset):
    def __init__(self, params: SyntheticFacesParams, split: str, length: int):
        self.params, self.split, self.length = params, split, length

    def __len__(self):
        return self.length

    def __getitem__(self, index: int):
        if not 0 <= index < self.length:
            raise IndexError(index)
        p = self.params
        return render(p.seed, self.split, index, p.image_size, p.fake_ratio, p.manipulations)


class SyntheticFaces(DatasetSource):
    """Procedural faces for deepfake, attribute and emotion tasks; no download."""

    splits = ("train", "val", "test")

    def __init__(self, **params):
        self.params = SyntheticFacesParams(**params)
        size = self.params.image_size
        self.info = DatasetInfo(
            labels={
                "fake": LabelInfo("binary", ["real", "fake"]),
                "expression": LabelInfo("multiclass", list(EXPRESSIONS)),
                "attributes": LabelInfo("multilabel", list(ATTRIBUTES)),
            },
            image_size=(size, size),
            groups={"Male": ["female", "male"]},
        )

    def split(self, name: str) -> Dataset:
        lengths = {"train": self.params.train, "val": self.params.val, "test": self.params.test}
        return _Split(self.params, name, lengths[name])
