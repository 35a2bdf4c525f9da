"""Figures as files and as ``data:`` URIs: matplotlib on its file-only backend, SVG with real
text (smaller than glyph outlines, and searchable), reproducible (no date, a fixed id salt)."""

from __future__ import annotations

import base64
import io

from ..images.plotting import crop_box, save_figure

#: what every figure of the report and the sweep shares: readable small text, no top/right frame
STYLE = {"svg.fonttype": "none", "svg.hashsalt": "lssat", "font.size": 8, "axes.titlesize": 9, "axes.labelsize": 8,
         "legend.fontsize": 7, "axes.spines.top": False, "axes.spines.right": False}


def pyplot():
    from ..images import pyplot as file_only_pyplot

    plt = file_only_pyplot()
    plt.rcParams.update(STYLE)
    return plt


def figure(*args, **kwargs):
    """``plt.subplots`` in the house style."""
    return pyplot().subplots(*args, **kwargs)


#: how every figure is saved as SVG: reproducible, no date in it
SVG = {"format": "svg", "metadata": {"Date": None}}


def svg_text(fig) -> str:
    """The figure as SVG text; the figure is closed."""
    buffer = io.StringIO()
    save_figure(fig, buffer, crop=True, **SVG)
    return buffer.getvalue()


def png_bytes(fig, dpi: int = 100, colours: int = 64, crop: bool = True) -> bytes:
    """The figure as a PNG of ``colours`` colours (a plot's lines and text need few: a quarter of
    the bytes); the figure is closed. ``crop``: to what it shows (False: a figure laid out to fill itself)."""
    buffer = io.BytesIO()
    save_figure(fig, buffer, crop=crop, format="png", dpi=dpi)
    return _few_colours(buffer, colours)


def svg_and_png(fig, dpi: int = 100, colours: int = 64) -> tuple[str, bytes]:
    """The figure as SVG text (:func:`svg_text`) and as a PNG (:func:`png_bytes`), cropped alike:
    laid out and measured once for both (the sweep's PNG files are its page's pictures); closed."""
    box = crop_box(fig)
    svg = io.StringIO()
    save_figure(fig, svg, close=False, bbox_inches=box, **SVG)
    png = io.BytesIO()
    save_figure(fig, png, bbox_inches=box, format="png", dpi=dpi)
    return svg.getvalue(), _few_colours(png, colours)


def _few_colours(buffer: io.BytesIO, colours: int) -> bytes:
    from PIL import Image

    buffer.seek(0)
    with Image.open(buffer) as picture:
        few = picture.convert("RGB").quantize(colors=colours)
    buffer = io.BytesIO()
    few.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def data_uri(data: bytes | str, mime: str) -> str:
    raw = data.encode("utf-8") if isinstance(data, str) else data
    return f"data:{mime};base64,{base64.b64encode(raw).decode('ascii')}"


def svg_uri(fig) -> str:
    return data_uri(svg_text(fig), "image/svg+xml")


def plain_log_axis(axis) -> None:
    """Tick labels such as 5, 10, 20 instead of 5×10^0 … 10^1."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    axis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    axis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    axis.set_minor_formatter(NullFormatter())
