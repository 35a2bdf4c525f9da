"""A finished variant's validation outputs, scored again on bootstrap draws. Imports torch: only
where answers are computed, never for ``lssat sweep --status``.

The outputs are those of the weights the run reports (``summary.json``'s ``reported``: the best
checkpoint), kept as ``checkpoints/best/predictions.npz`` and read with
:func:`~lssat_framework.train.evaluation.read_predictions` (arrays only, no pickle); the task is
built as the run built it, from its own ``spec.yaml`` and bound to its ``dataset.json``. A
vectorised metric (:mod:`.paired`) is used where it gives the task's own value on the whole split
and on a draw; otherwise the task's ``metrics`` are computed draw by draw.

Variants are paired only where their validation sets are one: the same number of samples, the
same targets and the same videos, in the same order. Each distinct validation set is resampled on
its own, and the answers say so.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import paired

#: how far a vectorised metric may differ from the task's own (float sums in another order)
TOLERANCE = 1e-6


@dataclass
class Scored:
    name: str
    units: int
    samples: int
    fingerprint: str
    metric: paired.Metric


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


def _units(arrays: dict[str, np.ndarray]) -> tuple[np.ndarray, int]:
    """Each sample's resampling unit: its video where the split has videos, else itself."""
    if "video" in arrays:
        _, unit = np.unique(arrays["video"], return_inverse=True)
        return unit.reshape(-1), int(unit.max()) + 1 if len(unit) else 0
    return np.arange(len(arrays["target"])), len(arrays["target"])


def _by_task(task, evaluation, metric: str, unit: np.ndarray, units: int) -> paired.Metric:
    """The task's own metric on each draw: the drawn units' samples, each drawn video a new video."""
    import torch

    order = np.argsort(unit, kind="stable")
    sizes = np.bincount(unit, minlength=units)
    starts = np.cumsum(sizes) - sizes
    videos = "video" in evaluation.extras

    def values(counts: np.ndarray) -> np.ndarray:
        out = np.empty(len(counts))
        for row, drawn_counts in enumerate(counts.astype(np.int64)):
            drawn = np.repeat(np.arange(units), drawn_counts)
            lengths = sizes[drawn]
            within = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
            index = torch.from_numpy(order[np.repeat(starts[drawn], lengths) + within])
            extras: dict[str, Any] = {"groups": {k: v[index] for k, v in evaluation.extras.get("groups", {}).items()}}
            if videos:
                extras["video"] = torch.from_numpy(np.repeat(np.arange(len(drawn)), lengths))
            out[row] = task.metrics(evaluation.logits[index], evaluation.target[index], extras).get(metric, math.nan)
        return out

    return values


def _correct(task, evaluation) -> np.ndarray | None:
    """Each sample's share of correct answers, as the builtin tasks decide them."""
    logits, target = evaluation.logits.float(), evaluation.target
    if logits.ndim == 2 and logits.shape[1] == 1 and target.ndim == 1:  # binary: score >= 0.5
        return ((task.scores(logits).numpy() >= 0.5) == target.numpy().astype(bool)).astype(np.float64)
    if logits.ndim == 2 and target.ndim == 1:  # multi-class: the largest logit
        return (logits.argmax(-1) == target).numpy().astype(np.float64)
    chosen = task.select(target) if hasattr(task, "select") else target
    if chosen.shape != logits.shape:
        return None
    return ((logits >= 0) == chosen.bool()).double().mean(dim=1).numpy()  # multi-label: the mean over labels


def _vectorised(task, evaluation, metric: str, unit: np.ndarray, units: int) -> paired.Metric | None:
    target = evaluation.target.numpy()
    if metric == "auc" and target.ndim == 1:
        scores = task.scores(evaluation.logits.float()).numpy()
        return paired.RankMetric(scores, target.astype(bool), unit) if scores.ndim == 1 else None
    if metric not in ("acc", "mean_acc", "balanced_acc"):
        return None
    correct = _correct(task, evaluation)
    if correct is None:
        return None
    if metric == "balanced_acc":
        return paired.BalancedMetric(correct, target, unit, units) if target.ndim == 1 else None
    return paired.MeanMetric(correct, unit, units)


def _close(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or abs(a - b) <= TOLERANCE


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
    if run.value is None or not _close(full, float(run.value)):
        return f"its predictions give {metric} {full:.4f}, not the reported {run.value}"
    unit, units = _units(arrays)
    general = _by_task(task, evaluation, metric, unit, units)
    fast = _vectorised(task, evaluation, metric, unit, units)
    if fast is not None:
        one = paired.unit_counts(np.random.default_rng(len(unit)), units, 1)
        agrees = _close(float(fast(np.ones((1, units)))[0]), full) and _close(float(fast(one)[0]), float(general(one)[0]))
        fast = fast if agrees else None
    digest = hashlib.sha1(repr(arrays["target"].shape).encode() + arrays["target"].tobytes())
    digest.update(arrays["video"].tobytes() if "video" in arrays else b"no videos")
    return Scored(run.name, units, len(unit), digest.hexdigest(), fast or general)


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
        out = {m.name: np.empty(draws) for m in members}
        for part in paired.chunked(draws, members[0].samples):
            counts = paired.unit_counts(rng, members[0].units, part.stop - part.start)
            for m in members:
                out[m.name][part] = m.metric(counts)
        values.update(out)
    return values, notes
