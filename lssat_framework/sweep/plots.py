"""The sweep's two PNG plots, drawn as the report draws them (:mod:`lssat_framework.report.study`)
from the comparisons as data (:mod:`.answers_data`): each task's backbones as a forest plot (every
backbone's value and paired 95 % interval on one shared axis, a dashed chance line, ★ the
separably best, red: the backbones without a result), and every variant against its size
(labelled by backbone, seeds side by side, the variants without a result named)."""

from __future__ import annotations

from pathlib import Path

from ..report.drawing import plain_log_axis as _plain_log_axis  # noqa: F401 - the name tests and older code import
from ..report.drawing import png_bytes
from ..report.study import forest, parameters
from .answers_data import answers_data
from .records import Comparison, Run


def plot_per_backbone(comparisons: list[Comparison], path: Path, runs: list[Run] = ()) -> None:
    """One panel per task: each backbone's cell (⚠ after a name: too few samples evaluated);
    ``runs``: every variant, so that backbones without a result are shown as such."""
    data = answers_data(comparisons, list(runs))
    _save(forest(data["tasks"], data["variants"]), path)


def plot_vs_parameters(runs: list[Run], path: Path) -> None:
    _save(parameters(answers_data([], runs)["variants"]), path)


def _save(fig, path: Path) -> None:
    from .state import write_atomic

    write_atomic(path, png_bytes(fig, dpi=110))
