"""Decoding one untrusted image file: the checks and conversions :func:`~.images.load_image`
makes before it crops and resizes.

A dataset is a folder of files from anywhere, so a file may be a decompression bomb, truncated,
or in a mode an 8-bit RGB reader gets wrong. Every such file is refused with one error type (the
caller's ``DataError``, which ``on_corrupt: skip`` skips), or decoded to the RGB a viewer shows."""

from __future__ import annotations

import struct

import numpy as np
from PIL import Image

#: The most pixels (width × height, as the header states them) an image may have: 2²⁶, e.g.
#: 8192×8192. Above any face photograph or video frame (8K video is 33 Mpx, the largest phone
#: modes 64 Mpx) yet a decode of at most 192 MB in RGB bytes, so a tiny file claiming a huge
#: size costs one skipped sample, not a loader worker killed for memory. It is checked on
#: every file, whatever PIL's process-wide ``Image.MAX_IMAGE_PIXELS`` is set to, and lies below
#: PIL's default (89.5 Mpx), so PIL's own bomb warning, made an error while decoding, never
#: refuses an image this limit lets through unless someone lowered PIL's.
MAX_IMAGE_PIXELS = 2**26

#: The formats PIL may read: those of ``IMAGE_SUFFIXES``. Others (EPS hands the file to
#: Ghostscript; ICO, PSD, ...) are not face images, and each extra decoder is surface to attack.
IMAGE_FORMATS = ("JPEG", "PNG", "BMP", "WEBP", "TIFF")

#: Every exception class PIL raises for a file it cannot decode: a bomb, a truncated or
#: malformed file, an unsupported mode, and the errors malformed headers cause in its plugins
#: (those ``Image.open`` itself catches while identifying a file; a TIFF whose strip offset is
#: a float raises ``TypeError`` while decoding), with the arithmetic ones a nonsense size or box
#: can cause (a zero division, an overflow). Not ``MemoryError``, which is the machine's state.
DECODE_ERRORS = (
    OSError, ValueError, SyntaxError, EOFError, struct.error, TypeError, IndexError, KeyError, ArithmeticError,
    Image.DecompressionBombError, Image.DecompressionBombWarning,
)

Transpose = getattr(Image, "Transpose", Image)  # the enum from Pillow 9.1, module constants before

#: The transpose that makes a picture upright, by its EXIF Orientation tag (as ``ImageOps.exif_transpose``).
UPRIGHT = {
    2: Transpose.FLIP_LEFT_RIGHT,
    3: Transpose.ROTATE_180,
    4: Transpose.FLIP_TOP_BOTTOM,
    5: Transpose.TRANSPOSE,
    6: Transpose.ROTATE_270,
    7: Transpose.TRANSVERSE,
    8: Transpose.ROTATE_90,
}
#: The transposes that swap width and height.
QUARTER_TURNS = {Transpose.TRANSPOSE, Transpose.ROTATE_270, Transpose.TRANSVERSE, Transpose.ROTATE_90}
ORIENTATION_TAG = 0x0112
#: Where ``Image.getexif`` finds an orientation besides a TIFF's own tags.
EXIF_SOURCES = ("exif", "Raw profile type exif", "XML:com.adobe.xmp", "xmp")


def open_image(path) -> Image.Image:
    """``path`` opened (its header read, no pixels decoded) if it is one of ``IMAGE_FORMATS``
    and has at most ``MAX_IMAGE_PIXELS`` pixels; ``ValueError`` otherwise."""
    image = Image.open(path, formats=IMAGE_FORMATS)
    width, height = image.size
    if width * height > MAX_IMAGE_PIXELS:
        image.close()
        raise ValueError(
            f"{width}×{height} is {width * height:,} pixels, more than the {MAX_IMAGE_PIXELS:,} an image "
            "may have (MAX_IMAGE_PIXELS): refused as a possible decompression bomb"
        )
    return image


def decode_upright(image: Image.Image, size: int, box=None) -> tuple[Image.Image, tuple[int, int]]:
    """``image`` decoded and turned upright by its EXIF orientation, and the upright picture's full
    size. A JPEG is decoded at reduced size (``draft``) while the crop, ``box`` (left, top,
    width, height, upright pixels) or the centred square, stays at least twice ``size``: PIL's
    own margin (``reducing_gap=2``) at which the reduction is not told apart from a full decode."""
    header = image.size
    early = upright_transpose(image) if image.format in ("JPEG", "MPO") else None  # only a draft needs it now
    width, height = upright_size(header, early)
    crop_width, crop_height = (box[2], box[3]) if box is not None else (max(min(header), 1),) * 2
    wanted = (max(1, int(width * 2 * size / crop_width)), max(1, int(height * 2 * size / crop_height)))
    image.draft("RGB", upright_size(wanted, early))
    image.load()
    # asked after decoding: PIL's TIFF decoder turns the picture itself, and its header size is already upright
    transpose = upright_transpose(image)
    return (image.transpose(transpose) if transpose is not None else image), upright_size(header, transpose)


def upright_size(size: tuple[int, int], transpose) -> tuple[int, int]:
    """A stored (width, height) as the picture shows once turned by ``transpose``."""
    return (size[1], size[0]) if transpose in QUARTER_TURNS else size


def upright_transpose(image: Image.Image):
    """The transpose that shows ``image`` upright, from its EXIF Orientation tag (None for none).
    A malformed EXIF block counts as no orientation, as in viewers that cannot read it."""
    if image.format == "PNG":
        image.load()  # a PNG's EXIF chunk may follow the pixels; a truncated file fails here
    if not hasattr(image, "tag_v2") and not any(key in image.info for key in EXIF_SOURCES):
        return None  # nothing where PIL would look for one: most files, at no cost
    try:
        return UPRIGHT.get(image.getexif().get(ORIENTATION_TAG))
    except DECODE_ERRORS:
        return None


def rgb_array(image: Image.Image) -> np.ndarray:
    """``H×W×3`` RGB bytes of an image in any mode, scaled to its real range rather than clipped.

    * 16-bit integers (``I;16*``): value / 257, rounded (0..65535 → 0..255).
    * 32-bit integers (``I``): as 16-bit when all values lie in 0..65535, otherwise scaled by
      255 / (2³¹ − 1), negative values as 0.
    * floats (``F``): × 255 when all values lie in [0, 1], otherwise min–max stretched to
      0..255 (a constant image is black); NaN or infinity is a ``ValueError``.
    * transparency (``RGBA``, ``LA``, ``PA``, a palette or colour key with ``transparency``):
      composited on black, the colour :func:`~.images.crop_or_pad` pads with.
    * anything else (``L``, ``1``, ``P``, ``CMYK``, ``YCbCr``, ...): PIL's ``convert("RGB")``."""
    mode = image.mode
    if mode.startswith("I;16"):
        return grey_to_rgb(from_16_bit(np.asarray(image)))
    if mode == "I":
        values = np.asarray(image)
        if values.size == 0 or (values.min() >= 0 and values.max() <= 65535):
            return grey_to_rgb(from_16_bit(values))
        return grey_to_rgb(np.rint(np.clip(values, 0, None) * (255 / np.iinfo(np.int32).max)).astype(np.uint8))
    if mode == "F":
        return grey_to_rgb(from_float(np.asarray(image)))
    if mode in ("RGBA", "RGBa", "LA", "La", "PA") or "transparency" in image.info:
        return on_black(np.asarray(image.convert("RGBA")))
    return np.asarray(image.convert("RGB"))


def from_16_bit(values: np.ndarray) -> np.ndarray:
    """Values in 0..65535 as bytes: divided by 257 and rounded."""
    return ((values.astype(np.uint32) + 128) // 257).astype(np.uint8)


def from_float(values: np.ndarray) -> np.ndarray:
    """Float pixels as bytes: ×255 from [0, 1], else min–max stretched; non-finite ones refused."""
    if not np.isfinite(values).all():
        raise ValueError("it has pixel values that are not finite (NaN or infinity)")
    low, high = (float(values.min()), float(values.max())) if values.size else (0.0, 1.0)
    if low >= 0 and high <= 1:
        return np.rint(values * np.float32(255)).astype(np.uint8)
    if high == low:
        return np.zeros(values.shape, np.uint8)
    scaled = values.astype(np.float64)  # float32 would overflow on ranges near its largest value
    scaled -= low
    scaled *= 255 / (high - low)
    return np.rint(scaled).astype(np.uint8)


def grey_to_rgb(grey: np.ndarray) -> np.ndarray:
    return np.repeat(grey[..., None], 3, axis=2)


def on_black(rgba: np.ndarray) -> np.ndarray:
    """RGBA bytes composited on black: each colour × alpha / 255, rounded."""
    colour, alpha = rgba[..., :3].astype(np.uint16), rgba[..., 3:].astype(np.uint16)
    return ((colour * alpha + 127) // 255).astype(np.uint8)
