"""Images in and out, for the core and for plugins: reading one untrusted image file the way every
dataset and ``lssat predict`` read it (:mod:`.reading`, its checks and conversions in
:mod:`.decoding`), and the plotting module for the PNGs runs write (:mod:`.plotting`).
Imports only ``..errors``."""

from .plotting import pyplot, save_figure
from .reading import IMAGE_SUFFIXES, as_unit_float, find_images, load_image

__all__ = ["IMAGE_SUFFIXES", "as_unit_float", "find_images", "load_image", "pyplot", "save_figure"]
