"""A finished variant's validation outputs, scored again on bootstrap draws. Imports torch: only
where answers are computed, never for ``lssat sweep --status``.

The outputs are those of the weights the run reports (``summary.json``'s ``reported``: the best
checkpoint), kept as ``checkpoints/best/predictions.npz`` and read with
:func:`~lssat_framework.train.evaluation.read_predictions` (arrays only, no pickle); the task is
built as the run built it, from its own ``spec.yaml`` and bound to its ``dataset.json``, and scored
on each draw as a run's own bootstrap scores it (:func:`lssat_framework.train.resampling.draw_metric`).

Variants are paired only where their validation sets are one: the same number of samples, the
same targets and the same videos, in the same order. Each distinct validation set is resampled on
its own, and the answers say so.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass

import numpy as np

from ..train import resampling
from . import paired


@dataclass
class Scored:
    name: str
    units: int
    samples: int
    fingerprint: str
    metric: resampling.Metric


def _task(run_dir):
    from ..plugins.manager import get_plugin_manager
    from ..spec.yaml_loading import parse_yaml
    from ..train.rundir import read_dataset_info

    section = (parse_yaml((run_dir / "spec.yaml").read_text(encoding="utf-8")) or {}).get("task") or {}
    task = get_plugin_manager().create("task", section["name"], **(section.get("params") or {}))
    info = read_dataset_info(run_dir)
    if info is None:
        raise FileNotFoundError(f"{run_dir / 'dataset.json'} is missing")
    task.bind(info)
    return task


def score(run, metric: str) -> Scored | str:
    """How ``run``'s metric moves on a draw, or why it cannot be said (a sentence)."""
    from ..train.checkpoints import find_checkpoint, predictions_file
    from ..train.evaluation import evaluation_from_arrays, read_predictions

    if run.weights != "best" or run.run_dir is None:
        return f"reports its {run.weights or 'final'} weights, whose per-sample outputs are not kept"
    folder = find_checkpoint(run.run_dir / "checkpoints" / "best")
    name = predictions_file(run.split if run.split in ("val", "test") else "val")  # the split its figures come from
    if folder is None or not (folder / name).is_file():
        return f"no checkpoints/best/{name}"
    try:
        arrays = read_predictions(folder / name)
        evaluation, task = evaluation_from_arrays(arrays), _task(run.run_dir)
        full = float(task.metrics(evaluation.logits, evaluation.target, evaluation.extras).get(metric, math.nan))
    except Exception as error:  # noqa: BLE001 - a folder the answers cannot score again must not stop the leaderboard
        return f"its predictions cannot be scored again ({type(error).__name__}: {error})"
    if run.value is None or not resampling.close(full, float(run.value)):
        return f"its predictions give {metric} {full:.4f}, not the reported {run.value}"
    metric_of_draw, units = resampling.draw_metric(task, evaluation, metric, full)
    digest = hashlib.sha1(repr(arrays["target"].shape).encode() + arrays["target"].tobytes())
    digest.update(arrays["video"].tobytes() if "video" in arrays else b"no videos")
    return Scored(run.name, units, len(arrays["target"]), digest.hexdigest(), metric_of_draw)


def draw_values(runs: list, metric: str, draws: int = paired.DRAWS, seed: int = 0) -> tuple[dict[str, np.ndarray] | None, list[str]]:
    """Every run's metric on the same ``draws`` draws of the validation samples (per distinct
    validation set); None, with the reasons, where a run's outputs cannot be scored again."""
    scored, missing = [], []
    for run in runs:
        result = score(run, metric)
        if isinstance(result, str):
            missing.append(f"{run.name} ({result})")
        else:
            scored.append(result)
    if missing:
        return None, missing
    sets: dict[str, list[Scored]] = {}
    for item in scored:
        sets.setdefault(item.fingerprint, []).append(item)
    notes = []
    if len(sets) > 1:
        described = "; ".join(f"{members[0].samples} samples: {', '.join(m.name for m in members)}" for members in sets.values())
        notes.append(f"not paired across all variants: their validation sets differ (counts or targets) — {described}; "
                     "each validation set was resampled on its own")
    values: dict[str, np.ndarray] = {}
    for index, members in enumerate(sets.values()):
        rng = np.random.default_rng([seed, index])
        drawn = resampling.metric_draws([m.metric for m in members], members[0].units, members[0].samples, draws, rng)
        values.update(zip((m.name for m in members), drawn))
    return values, notes
