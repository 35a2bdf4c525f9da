"""Figures are saved in one drawing pass (``lssat_framework.images.save_figure``): cropped as
matplotlib's own ``bbox_inches="tight"`` crops them (to a pixel or two), outside legends included."""

import io

import pytest
from PIL import Image

from lssat_framework.images import pyplot, save_figure
from lssat_framework.report.curves import training_curves
from lssat_framework.report.study import forest

RECORDS = {f"run {n}": [{"epoch": e, "train_loss": 1.0 / (e + n), "train_loss_task": 0.5 / e, "val_auc": 0.5 + 0.04 * e * (n + 1)} for e in range(1, 6)]
           for n in range(3)}
TASKS = [{"task": f"task {t}", "metric": "auc", "higher_is_better": True, "best": "b0",
          "cells": [{"backbone": f"b{b}", "value": 0.8 - 0.05 * b, "low": 0.75 - 0.05 * b, "high": 0.85 - 0.05 * b, "chance": 0.5,
                     "warning": "", "standing": "best" if b == 0 else "behind"} for b in range(3)]} for t in range(2)]

FIGURES = {
    "curves of three runs, the legend outside the panels": lambda: training_curves(RECORDS, "auc", "a title"),
    "a forest plot of two panels": lambda: forest(TASKS, []),
}


def matplotlib_tight(fig, **options) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, bbox_inches="tight", **options)
    pyplot().close(fig)
    return buffer.getvalue()


def one_pass(fig, **options) -> bytes:
    buffer = io.BytesIO()
    save_figure(fig, buffer, crop=True, **options)
    return buffer.getvalue()


@pytest.mark.parametrize("figure", FIGURES)
@pytest.mark.parametrize("dpi", [60, 110])
def test_a_cropped_figure_has_the_size_matplotlibs_tight_crop_gives(figure, dpi):
    draw = FIGURES[figure]
    expected = Image.open(io.BytesIO(matplotlib_tight(draw(), format="png", dpi=dpi)))
    got = Image.open(io.BytesIO(one_pass(draw(), format="png", dpi=dpi)))
    # the box is measured at the figure's dpi, matplotlib's at the file's: text hinting moves it a pixel or two
    assert abs(got.width - expected.width) <= 2 and abs(got.height - expected.height) <= 2, (got.size, expected.size)
    assert got.size[0] > 100 and got.size[1] > 50


def test_save_figure_draws_once_and_closes_the_figure(monkeypatch):
    fig = FIGURES["a forest plot of two panels"]()
    draws = []
    original = type(fig).draw
    monkeypatch.setattr(type(fig), "draw", lambda self, renderer: (draws.append(renderer), original(self, renderer))[1])
    one_pass(fig, format="svg")
    assert len(draws) == 1
    assert fig.number not in pyplot().get_fignums()


def test_questions_two_and_three_have_no_picture_where_one_backbone_has_results():
    """The answer says "nothing to compare": an empty panel or a row of zeros would only repeat it."""
    from lssat_framework.report.study import differences, gaps

    alone = [{**task, "cells": task["cells"][:1], "differences": []} for task in TASKS]
    assert differences(alone) is None and gaps(alone) is None
    pair = [{**task, "differences": [{"backbone": "b1", "to": "b0", "value": 0.05, "low": 0.01, "high": 0.09, "separable": True}]} for task in TASKS]
    for fig in (differences(pair), gaps(pair)):
        assert fig is not None and fig.axes
        pyplot().close(fig)
