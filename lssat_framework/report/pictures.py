"""Pictures a run drew (reconstruction grids, a task's own pictures), embedded in the page: each
decoded first through the checks every dataset image passes (an untrusted file that does not
decode is left out and named), kept as it is where it is small, else a thumbnail."""

from __future__ import annotations

import io
from pathlib import Path

from .drawing import data_uri

#: a picture wider than this, or heavier than :data:`MAX_BYTES`, is embedded as a thumbnail this wide
THUMBNAIL_WIDTH = 640
MAX_BYTES = 60_000
#: a file larger than this is no picture a run drew, and is left out unread
MAX_FILE_BYTES = 64 * 2**20


def embedded(path: Path, width: int = THUMBNAIL_WIDTH, quality: int = 70) -> str | None:
    """``path`` as a ``data:`` URI: the file's own PNG where small enough, else a JPEG thumbnail
    ``width`` pixels wide; None where the file does not decode."""
    from ..images.decoding import DECODE_ERRORS, open_image

    try:
        if path.stat().st_size > MAX_FILE_BYTES:  # no grid is this large: not read into memory
            return None
        raw = path.read_bytes()
        with open_image(io.BytesIO(raw)) as image:
            image.load()
            if image.format == "PNG" and image.width <= width and len(raw) <= MAX_BYTES:
                return data_uri(raw, "image/png")
            picture = image.convert("RGB")
    except DECODE_ERRORS:
        return None
    if picture.width > width:
        picture = picture.resize((width, max(1, round(picture.height * width / picture.width))), resample=_lanczos())
    buffer = io.BytesIO()
    picture.save(buffer, format="JPEG", quality=quality, optimize=True)
    return data_uri(buffer.getvalue(), "image/jpeg")


def _lanczos():
    from PIL import Image

    return getattr(Image, "Resampling", Image).LANCZOS
