"""``answers.json``: the figures behind ``answers.md`` as data, which the sweep's plots and its
report (:mod:`lssat_framework.report`, which reads a sweep folder's files and never imports the
sweep) draw from.

``tasks``: per task (as :mod:`.compare` compared it) its ``metric``, ``higher_is_better``,
whether the intervals are ``paired``, the ``best`` backbone (only where it is separably ahead of
every other, else null), its ``cells`` (each backbone's value, 95 % interval, chance, seeds, the
sample-size ``warning`` and its ``standing``: best, tied, behind, alone), the ``differences`` of the
top backbone to each other one (with whether it is ``separable``), and what was left out
(``incomplete``, ``absent``, ``notes``). ``variants``: every variant of the grid, finished or not,
with its own figures, size, state and error.
"""

from __future__ import annotations

from typing import Any

from .records import Comparison, Run

ANSWERS_DATA = "answers.json"


def task_data(comparison: Comparison) -> dict[str, Any]:
    order = comparison.order
    top = order[0] if order else None
    metric = next((run.metric for cell in comparison.cells.values() for run in cell.runs if run.metric), "")
    cells = [{"backbone": backbone, "value": cell.value, "low": cell.low, "high": cell.high, "chance": cell.chance, "seeds": cell.seeds,
              "std": cell.std, "warning": cell.warning().strip(), "standing": comparison.standing(backbone), "weights": cell.weights()}
             for backbone, cell in ((b, comparison.cells[b]) for b in order)]
    differences = []
    for other in order[1:]:
        difference = comparison.differences.get((top, other))
        if difference is not None:
            differences.append({"backbone": other, "to": top, "value": difference.value, "low": difference.low, "high": difference.high,
                                "separable": comparison.ahead(top, other)})
    return {"task": comparison.task, "metric": metric, "higher_is_better": comparison.higher, "paired": comparison.paired,
            "best": top if comparison.clear_best() else None, "cells": cells, "differences": differences,
            "incomplete": comparison.incomplete, "absent": comparison.absent, "notes": comparison.notes}


def variant_data(run: Run) -> dict[str, Any]:
    return {"variant": run.name, "task": run.task, "backbone": run.backbone, "setting": run.setting, "seed": run.seed, "state": run.state,
            "metric": run.metric, "value": run.value, "low": run.low, "high": run.high, "chance": run.chance,
            "parameters_m": run.parameters_m, "error": run.error}


def answers_data(comparisons: list[Comparison], runs: list[Run]) -> dict[str, Any]:
    return {"tasks": [task_data(c) for c in comparisons], "variants": [variant_data(r) for r in runs]}
