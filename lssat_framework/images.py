"""Images in and out: reading one image file the way every dataset and ``lssat predict`` read it,
and the plotting module for the PNGs runs and tasks write."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from .errors import DataError

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"}


def load_image(path: Path, size: int, box=None) -> torch.Tensor:
    """RGB float ``3×size×size`` in [0, 1]: crop ``box`` (or the centred square), then resize."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            image = image.convert("RGB")
            if box is not None:
                left, top, width, height = box
                image = image.crop((int(left), int(top), int(left + width), int(top + height)))
            else:
                side = min(image.size)
                left, top = (image.width - side) // 2, (image.height - side) // 2
                image = image.crop((left, top, left + side, top + side))
            image = image.resize((size, size), Image.BILINEAR)
            array = np.asarray(image, dtype=np.float32) / 255.0
    except (OSError, UnidentifiedImageError, ValueError) as exc:
        raise DataError(f"cannot read image {path}: {exc}") from None
    return torch.from_numpy(array.transpose(2, 0, 1).copy())


def find_images(paths: list[str | Path]) -> list[Path]:
    """The image files among ``paths``; folders are searched recursively."""
    found = []
    for path in map(Path, paths):
        if path.is_dir():
            found += sorted(p for p in path.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
        elif path.is_file():
            found.append(path)
        else:
            raise DataError(f"no such image or folder: {path}")
    return found


def pyplot():
    """``matplotlib.pyplot`` on the file-only Agg backend (no display needed, also on a cluster node)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt
