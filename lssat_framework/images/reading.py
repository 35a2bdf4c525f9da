"""Reading one image file the way every dataset and ``lssat predict`` read it."""

from __future__ import annotations

import contextlib
import warnings
from pathlib import Path

import numpy as np
import torch

from ..errors import DataError

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"}


def load_image(path: Path, size: int, box=None) -> torch.Tensor:
    """RGB ``uint8`` ``3×size×size``: crop ``box`` (or the centred square), then resize.

    Bytes rather than floats, since that is a quarter of what loader workers hand to the main
    process and of the copy to a GPU (:func:`as_unit_float` scales them on the device). A JPEG
    more than twice as large as needed is decoded at reduced size (its DCT scaling, ``draft``).
    The crop is a view of the decoded bytes and the resize torch's antialiased bilinear on them,
    PIL's filter at a third of PIL's time.

    The file is untrusted: one that cannot be decoded (truncated, malformed, not a JPEG, PNG,
    BMP, WebP or TIFF, more than :data:`~.image_decoding.MAX_IMAGE_PIXELS` pixels, PIL's
    decompression-bomb warning or error) is a :class:`DataError` naming it. The picture is
    turned upright by its EXIF orientation first, and ``box`` (left, top, width, height) is in
    the upright picture's pixels, as a face detector run on what a viewer shows gives it.
    Modes other than 8-bit RGB are converted as :func:`~.image_decoding.rgb_array` states:
    16-bit and float pixels scaled to their real range, transparency composited on black."""
    from .decoding import decode_upright, open_image

    with untrusted_decode(path):
        if box is not None:
            checked_box(box)
        with open_image(path) as image:
            upright, (full_width, full_height) = decode_upright(image, size, box)
            pixels = decoded_pixels(upright)
        left, top, width, height = box if box is not None else checked_box(centred_square(full_width, full_height))
        scale = pixels.shape[2] / full_width  # below 1 when a JPEG was decoded at reduced size
        crop = crop_or_pad(pixels, *(int(v * scale) for v in (left, top, left + width, top + height)))
        return resize_square(crop, size)


def load_full_image(path: Path) -> np.ndarray:
    """The whole upright picture as ``H×W×3`` RGB bytes at its full size (a face detector sees
    every pixel), read with :func:`load_image`'s checks and conversions."""
    from .decoding import decode_upright, open_image, rgb_array

    with untrusted_decode(path), open_image(path) as image:
        upright, _ = decode_upright(image, max(image.size))  # no draft: nothing is decoded smaller
        return rgb_array(upright)


@contextlib.contextmanager
def untrusted_decode(path: Path):
    """Around decoding an untrusted file: PIL's decompression-bomb warning is an error, and any
    failure to decode is one :class:`DataError` naming the file."""
    from PIL import Image

    from .decoding import DECODE_ERRORS

    try:
        with warnings.catch_warnings():  # PIL's bomb warning an error for this decode only
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            yield
    except DECODE_ERRORS as exc:
        raise DataError(f"cannot read image {path}: {exc}") from None


def resize_square(pixels: torch.Tensor, size: int) -> torch.Tensor:
    """A ``3×H×W`` image resized to ``3×size×size`` as every reader resizes (torch's antialiased
    bilinear); ``lssat predict`` resizes its face crops by this too, so they meet the model as
    the same crops read from files do."""
    return torch.nn.functional.interpolate(pixels[None], size=(size, size), mode="bilinear", antialias=True, align_corners=False)[0].contiguous()


def checked_box(box):
    """``box`` (left, top, width, height) if it is neither empty nor larger than any image may be;
    ``ValueError`` otherwise (a nonsense box, e.g. a bad label row, must not allocate gigabytes)."""
    from .decoding import MAX_IMAGE_PIXELS

    left, top, width, height = box
    if width <= 0 or height <= 0:
        raise ValueError(f"the crop box {(left, top, width, height)} is empty")
    if width * height > MAX_IMAGE_PIXELS:
        raise ValueError(f"the crop box {(left, top, width, height)} is larger than MAX_IMAGE_PIXELS")
    return box


def decoded_pixels(image) -> torch.Tensor:
    """A PIL image's pixels as RGB bytes, ``3×H×W`` (channels-last in memory). 8-bit RGB is a
    view of the decoded bytes, without a copy; other modes are converted by
    :func:`~.image_decoding.rgb_array`."""
    if image.mode != "RGB" or "transparency" in image.info:
        from .decoding import rgb_array

        return torch.from_numpy(rgb_array(image)).permute(2, 0, 1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the bytes are read-only; nothing writes to them
        return torch.from_numpy(np.asarray(image)).permute(2, 0, 1)


def crop_or_pad(pixels: torch.Tensor, left: int, top: int, right: int, bottom: int) -> torch.Tensor:
    """The box of a ``C×H×W`` image; parts of it outside the image are black, as PIL's crop makes them."""
    height, width = pixels.shape[-2:]
    inside = pixels[:, max(top, 0) : max(min(bottom, height), 0), max(left, 0) : max(min(right, width), 0)]
    pad_left, pad_top = min(max(-left, 0), right - left), min(max(-top, 0), bottom - top)
    padding = (pad_left, right - left - pad_left - inside.shape[2], pad_top, bottom - top - pad_top - inside.shape[1])
    return torch.nn.functional.pad(inside, padding) if any(padding) else inside


def centred_square(width: int, height: int) -> tuple[int, int, int, int]:
    """(left, top, side, side) of the largest square centred in a width×height image."""
    side = min(width, height)
    return (width - side) // 2, (height - side) // 2, side, side


def as_unit_float(images: torch.Tensor) -> torch.Tensor:
    """Images as floats in [0, 1]: bytes (what the dataset readers give) are scaled by 1/255;
    floats pass unchanged."""
    return images.float().div_(255) if images.dtype == torch.uint8 else images


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
