"""The sweep's two PNG plots, drawn as the report draws them (:mod:`lssat_framework.report.study`)
from the comparisons as data (:mod:`.answers_data`, ``answers.json``): each task's backbones as a
forest plot (every backbone's value and paired 95 % interval on one shared axis, a dashed chance
line, ★ the separably best, red: the backbones without a result), and every variant against its
size (labelled by backbone, seeds side by side, the variants without a result named). Each figure
is drawn once, for its file and for the sweep's page, which shows the same picture as SVG."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..report.drawing import plain_log_axis as _plain_log_axis  # noqa: F401 - the name tests and older code import
from ..report.drawing import svg_and_png
from ..report.study import forest, parameters

#: file -> what the page calls the same picture (``report.refresh_report``'s ``pictures``)
PLOTS = {"metric_per_backbone.png": "forest", "metric_vs_parameters.png": "parameters"}


def draw_plots(data: dict[str, Any], out_dir: Path) -> dict[str, Any]:
    """Write both PNGs of ``data`` (``answers.json``'s content) into ``out_dir``; returns the same
    pictures as SVG text, with the data they show, for the page."""
    from .state import write_atomic

    pictures: dict[str, Any] = {"data": data}
    figures = {"forest": lambda: forest(data["tasks"], data["variants"]), "parameters": lambda: parameters(data["variants"])}
    for file, name in PLOTS.items():
        pictures[name], png = svg_and_png(figures[name](), dpi=110)
        write_atomic(out_dir / file, png)
    return pictures
