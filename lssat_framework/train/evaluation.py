"""Evaluation: task metrics over a whole split, gathered across processes, and how sure they are.

``bootstrap_interval`` resamples the evaluated samples (whole videos where the split has videos,
so that the frames of one video stay together) and recomputes the metric: the percentile interval
says how much the figure would move on another draw of a split of the same size. ``chance`` is
what a model that learned nothing about the inputs scores on this split: the task's definition
where it has one (0.5 for AUC, the majority's share for accuracy), else the metric of the same
predictions shuffled across samples.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from ..interfaces import Task

BOOTSTRAP_RESAMPLES = 500
CHANCE_SHUFFLES = 20


@dataclass
class Evaluation:
    metrics: dict[str, float]
    logits: torch.Tensor
    target: torch.Tensor
    #: ``video`` (tensor) and ``groups`` (name -> tensor), as ``Task.metrics`` takes them
    extras: dict[str, Any] = field(default_factory=dict)
    #: unreadable files the split skipped while being read (``on_corrupt: skip``)
    skipped: set[str] = field(default_factory=set)
    #: the split evaluated, where known (``val``, ``test``)
    split: str = ""

    def counts(self) -> dict[str, int | None]:
        """How many samples were evaluated, and how many videos they come from (None: not videos)."""
        video = self.extras.get("video")
        return {"samples": int(len(self.target)), "videos": None if video is None else int(len(torch.unique(video)))}


def evaluation_arrays(evaluation: Evaluation) -> dict[str, np.ndarray]:
    """The per-sample outputs of an evaluation as plain arrays (``predictions.npz``): ``logits``,
    ``target``, ``video`` where the split has videos, and ``group/<name>`` per group label."""
    arrays = {"logits": evaluation.logits.float().numpy(), "target": evaluation.target.numpy()}
    for key in ("video", "video_folder"):
        if key in evaluation.extras:
            arrays[key] = evaluation.extras[key].numpy()
    for name, values in evaluation.extras.get("groups", {}).items():
        arrays[f"group/{name}"] = values.numpy()
    return arrays


def evaluation_from_arrays(arrays: dict[str, np.ndarray], metrics: dict[str, float] | None = None) -> Evaluation:
    """What :func:`evaluation_arrays` gave, as an :class:`Evaluation` the task's metrics take again."""
    extras: dict[str, Any] = {"groups": {k[len("group/"):]: torch.from_numpy(v) for k, v in arrays.items() if k.startswith("group/")}}
    for key in ("video", "video_folder"):
        if key in arrays:
            extras[key] = torch.from_numpy(arrays[key])
    return Evaluation(dict(metrics or {}), torch.from_numpy(arrays["logits"]), torch.from_numpy(arrays["target"]), extras)


def read_predictions(path) -> dict[str, np.ndarray]:
    """A ``predictions.npz``, read as arrays only (never a pickle)."""
    from ..errors import LssatError

    try:
        with np.load(path, allow_pickle=False) as stored:
            return {key: stored[key] for key in stored.files}
    except (OSError, ValueError) as error:
        raise LssatError(f"{path}: not a predictions file ({error}); the run directory is damaged or was not written by lssat") from None


def skipped_paths(batch: dict[str, Any]) -> set[str]:
    """Paths of unreadable files that a batch's samples replaced (datasets with ``on_corrupt: skip``
    name them in each item's ``skipped`` string, so that they reach the main process from workers)."""
    return {path for entry in batch.get("skipped", ()) for path in entry.split("\n") if path}


@torch.no_grad()
def evaluate(accelerator, model, task: Task, loader) -> Evaluation:
    """Task metrics over the whole split, gathered across processes (padding samples dropped)."""
    from accelerate.utils import gather_object

    model.eval()
    logits_all, targets_all, extras_all, skipped = [], [], {}, set()
    for batch in loader:
        logits, _ = model(batch["image"], ssl=False)
        target = batch["labels"][task.label]
        skipped |= skipped_paths(batch)
        extras = {}
        for key in ("video", "video_folder"):  # our video ids; DeepfakeBench's (the folder's name)
            if key in batch:
                extras[key] = batch[key]
        for group, values in batch.get("groups", {}).items():
            extras[f"group:{group}"] = values
        logits, target, extras = accelerator.gather_for_metrics((logits, target, extras))
        logits_all.append(logits.float().cpu())
        targets_all.append(target.cpu())
        for key, value in extras.items():
            extras_all.setdefault(key, []).append(value.cpu())
    model.train()
    logits, target = torch.cat(logits_all), torch.cat(targets_all)
    extras = {k: torch.cat(v) for k, v in extras_all.items() if not k.startswith("group:")}
    extras["groups"] = {k[len("group:") :]: torch.cat(v) for k, v in extras_all.items() if k.startswith("group:")}
    metrics = task.metrics(logits, target, extras)
    metrics["count"] = int(len(target))
    if accelerator.num_processes > 1:
        skipped = set().union(*gather_object([skipped]))
    return Evaluation(metrics, logits, target, extras, skipped)


def video_members(extras: dict[str, Any]) -> list[torch.Tensor] | None:
    """The sample indices of each video in the order of their ids (None: the split has no videos),
    found in O(n log n)."""
    videos = extras.get("video")
    if videos is None:
        return None
    order = torch.argsort(videos, stable=True)
    _, counts = torch.unique_consecutive(videos[order], return_counts=True)
    return list(torch.split(order, counts.tolist()))


def video_scores(scores: torch.Tensor, video: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Each video's id and score (``scores``: one row per frame): the mean of its frames' scores,
    the score the tasks' video metrics rank (e.g. the deepfake task's ``video_auc``) and
    ``lssat predict`` answers for a video; in float64, as those metrics average."""
    members = video_members({"video": video})
    ids = torch.stack([video[m[0]] for m in members])
    return ids, torch.stack([scores[m].double().mean(0) for m in members])


def bootstrap_interval(task: Task, evaluation: Evaluation, metric: str, seed: int = 0, resamples: int = BOOTSTRAP_RESAMPLES, level: float = 0.95) -> dict[str, Any] | None:
    """The percentile interval of ``metric`` over ``resamples`` bootstrap draws of the split (whole
    videos where it has videos), scored as :func:`.resampling.draw_metric` scores a draw."""
    from .resampling import draw_metric, metric_draws

    count = len(evaluation.target)
    if count < 2:
        return None
    score, units = draw_metric(task, evaluation, metric, evaluation.metrics.get(metric))  # evaluate()'s own, where it ran
    values, = metric_draws([score], units, count, resamples, np.random.default_rng(seed))
    finite = values[np.isfinite(values)]
    if len(finite) < resamples / 2:  # mostly undefined (e.g. one class only): no honest interval
        return None
    tail = (1 - level) / 2
    low, high = np.quantile(finite, [tail, 1 - tail])
    unit = "video" if "video" in evaluation.extras else "sample"
    return {"low": float(low), "high": float(high), "level": level, "resamples": resamples, "unit": unit}


def headline_figures(task: Task, evaluation: Evaluation, seed: int = 0) -> dict[str, Any]:
    """What a reported headline needs beside it: its 95 % bootstrap ``interval``, its ``chance``
    level, and the ``samples`` and ``videos`` evaluated."""
    return {
        "interval": bootstrap_interval(task, evaluation, task.headline, seed=seed),
        "chance": chance(task, evaluation, task.headline, seed=seed),
        **evaluation.counts(),
    }


def chance(task: Task, evaluation: Evaluation, metric: str, seed: int = 0, shuffles: int = CHANCE_SHUFFLES) -> float | None:
    """What ``metric`` scores without a model: the task's own definition (``Task.chance_level``,
    e.g. the majority's share for accuracy), else the metric of the same predictions shuffled
    across samples, averaged over ``shuffles``."""
    defined = getattr(task, "chance_level", None)
    if defined is not None:
        value = defined(metric, evaluation.target, evaluation.extras)
        if value is not None:
            return float(value)
    count = len(evaluation.target)
    if count < 2:
        return None
    generator = torch.Generator().manual_seed(seed + 1)
    values = []
    for _ in range(shuffles):
        permutation = torch.randperm(count, generator=generator)
        value = task.metrics(evaluation.logits[permutation], evaluation.target, evaluation.extras).get(metric)
        if value is not None and math.isfinite(value):
            values.append(value)
    return sum(values) / len(values) if values else None
