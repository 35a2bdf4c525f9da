"""Aligned face crops, DeepfakeBench's geometry: the least-squares similarity (rotation, uniform
scale, shift) that carries a face's five key points onto the ArcFace template, scaled as
DeepfakeBench scales it (``preprocessing/preprocess.py``, ``img_align_crop``): the 112-pixel
template moved 8 px right (as for a 128-wide face), stretched to the crop's side, then shrunk
towards the middle by ``scale`` (1.3: a margin of 15 % of the side on each edge).
"""

from __future__ import annotations

import numpy as np

#: ArcFace's five points in its 112×112 crop: eyes, nose tip, mouth corners (x, y)
ARCFACE_112 = np.array([[30.2946, 51.6963], [65.5318, 51.5014], [48.0252, 71.7366], [33.5493, 92.3655], [62.7299, 92.2041]])


def template(size: int, scale: float = 1.3) -> np.ndarray:
    """Where the five points go in a ``size``² crop at ``scale`` (``5×2``, x then y)."""
    points = ARCFACE_112 + [8.0, 0.0]
    points = points * size / 112
    margin = size * (scale - 1) / 2
    return (points + margin) * size / (size + 2 * margin)


def similarity(points: np.ndarray, size: int, scale: float = 1.3) -> np.ndarray:
    """The ``3×3`` matrix that maps frame pixels (x, y) to the crop's, from the five points."""
    from skimage.transform import SimilarityTransform

    source, target = np.asarray(points, dtype=np.float64), template(size, scale)
    if hasattr(SimilarityTransform, "from_estimate"):  # scikit-image 0.26 on
        transform = SimilarityTransform.from_estimate(source, target)
        fitted = bool(transform)
    else:
        transform = SimilarityTransform()
        fitted = transform.estimate(source, target)
    if not fitted:
        raise ValueError(f"no similarity carries the points {np.asarray(points).tolist()} onto the template")
    return transform.params


def matrix_scale(matrix: np.ndarray) -> float:
    """Crop pixels per frame pixel of a similarity matrix."""
    return float(np.hypot(matrix[0, 0], matrix[1, 0]))


def warp(frame: np.ndarray, matrix: np.ndarray, size: int) -> np.ndarray:
    """The ``size``² crop of ``frame`` under ``matrix`` (bilinear; black beyond the frame, as
    OpenCV's ``warpAffine`` leaves it)."""
    from PIL import Image

    inverse = np.linalg.inv(matrix)  # PIL asks, for each crop pixel, where it comes from
    image = Image.fromarray(frame).transform((size, size), Image.AFFINE, data=tuple(inverse[:2].ravel()), resample=Image.BILINEAR)
    return np.asarray(image)
