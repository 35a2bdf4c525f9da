"""The plotting module for the PNGs runs, sweeps and tasks write, and the one way they save a figure."""

from __future__ import annotations

from typing import IO, Any


def pyplot():
    """``matplotlib.pyplot`` on the file-only Agg backend (no display needed, also on a cluster node)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def crop_box(fig):
    """What ``fig`` shows plus ``savefig.pad_inches``, in inches (see :func:`save_figure`)."""
    import matplotlib

    return fig.get_tightbbox(fig.canvas.get_renderer()).padded(matplotlib.rcParams["savefig.pad_inches"])


def save_figure(fig, target: str | Any | IO, *, crop: bool = False, close: bool = True, **options: Any) -> None:
    """``fig.savefig(target, **options)`` in one drawing pass, then the figure is closed (``close``).

    ``crop``: cut the picture to what it shows plus ``savefig.pad_inches``, as ``bbox_inches="tight"``
    does, the box measured with the renderer the figure's ``tight_layout`` used (text sizes are
    cached per renderer). matplotlib's "tight" draws the whole figure once more to measure it, and a
    figure that ran ``tight_layout`` keeps a placeholder layout engine that makes ``savefig`` draw
    it once more as well; both are skipped here: 10-25 % less time a figure (measured; the study's
    page side by side in benchmarks/report_size.py).
    """
    if crop:
        options["bbox_inches"] = crop_box(fig)
    fig.set_layout_engine(None)  # the layout is done: nothing left for savefig to lay out again
    try:
        fig.savefig(target, **options)
    finally:
        if close:
            pyplot().close(fig)
