"""The components' contracts, checked by a dry forward before anything trains.

A component can validate and build and still break what the core expects of it
(:mod:`lssat_framework.interfaces`): a descriptor returning more channels than it declares, an
objective whose output holds no loss, a task without metrics. A run would find out after a whole
epoch, with a bare error that names no plugin. :func:`dry_check` pushes one tiny batch (random
images of the dataset's size; labels, groups and videos of the dataset's kinds) through every part
as a training step and an evaluation do, and reports each break as one
:class:`~lssat_framework.errors.PluginFaultError` naming the component, its plugin and its
distribution. :func:`~lssat_framework.model.build` runs it, so ``lssat run`` does before training
and ``lssat validate --build`` does without training.

The check leaves no trace: no gradient, the random generators and the model's buffers (batch-norm
statistics) restored, the task's loss and metrics called on a copy of the task (one that counts
its calls keeps its count), and what the components print sent to stderr.
"""

from __future__ import annotations

import contextlib
import copy
import numbers
import sys
from collections.abc import Mapping
from typing import Any, Iterator

import torch

from ..errors import PluginFaultError
from ..images import as_unit_float
from ..interfaces import DatasetInfo, Task, match_channels
from .components import Component

#: images in the dry batch: two, so that a batch dimension cannot hide
DRY_IMAGES = 2
#: the most samples given to the task's metrics (enough for every group value to hold every class)
MAX_METRIC_SAMPLES = 4096

Problems = list[str]


def dry_check(resolved: Any, model: Any, task: Task, info: DatasetInfo) -> None:
    """One tiny batch through ``model`` (an :class:`~lssat_framework.model.LSSATModel`), the
    task's loss and its metrics; raise :class:`PluginFaultError` listing every broken contract."""
    height, width = tuple(info.image_size)
    images = torch.randint(0, 256, (DRY_IMAGES, 3, height, width), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    images = images.to(next((p.device for p in model.parameters()), images.device))
    owners = _owners(resolved)
    problems: Problems = []
    causes: list[BaseException] = []
    with _leaving_no_trace(model):
        inputs = _modalities(model, images, owners, problems, causes)
        if inputs is not None:
            logits = _task_path(model, inputs, owners, problems, causes)
            _ssl_path(model, inputs, owners, problems, causes)
            if logits is not None:  # a copy: a task that counts its calls (or caches) must not see these
                _task_contract(_copy(task), logits, info, owners["task"], problems, causes)
    if problems:  # the first line names a culprit: sweep status and job files keep only that line
        found = f" (found by a dry forward of {DRY_IMAGES} random {height}×{width} images; the contracts are in lssat_framework/interfaces.py)"
        also = "".join(f"\n  also: {problem}" for problem in problems[1:])
        raise PluginFaultError(problems[0] + found + also) from (causes[0] if causes else None)


def _copy(task: Task) -> Task:
    try:
        return copy.deepcopy(task)
    except Exception:  # e.g. a lock among its attributes: a shallow copy keeps its own counters
        return copy.copy(task)


def _owners(resolved: Any) -> dict[str, Component]:
    owners = {section: rc.component for section, rc in resolved.components.items()}
    owners.update({f"descriptor:{name}": rc.component for name, rc in resolved.modalities.items()})
    return owners


@contextlib.contextmanager
def _leaving_no_trace(model: torch.nn.Module) -> Iterator[None]:
    buffers = {name: buffer.detach().clone() for name, buffer in model.named_buffers()}
    with torch.random.fork_rng(devices=[]), torch.no_grad(), contextlib.redirect_stdout(sys.stderr):
        try:
            yield
        finally:
            for name, buffer in model.named_buffers():
                if name in buffers and buffer.shape == buffers[name].shape:
                    buffer.copy_(buffers[name])


def _raised(problems: Problems, causes: list, owner: Component, what: str, exc: Exception) -> None:
    detail = f": {exc}" if str(exc) else ""
    if isinstance(exc, NotImplementedError):
        detail += "; the component's class must implement it"
    problems.append(f"{owner.blame}: {what} raised {type(exc).__name__}{detail}")
    causes.append(exc)


def _shape(tensor: Any) -> str:
    return "×".join(str(n) for n in tensor.shape) if isinstance(tensor, torch.Tensor) else type(tensor).__name__


def _modalities(model, images, owners, problems, causes) -> dict[str, torch.Tensor] | None:
    """Each descriptor's map of the batch, checked against ``B×channels×H×W``; None if one broke."""
    unit = as_unit_float(images)
    batch, _, height, width = unit.shape
    inputs, broken = {}, False
    for name, descriptor in model.descriptors.items():
        owner = owners.get(f"descriptor:{name}") or owners["ssl"]
        try:
            out = model.modalities(unit, [name])[name]
        except Exception as exc:
            _raised(problems, causes, owner, f"modality '{name}': its forward", exc)
            broken = True
            continue
        channels = getattr(descriptor, "channels", None)
        expected = (batch, channels, height, width)
        if not isinstance(out, torch.Tensor) or tuple(out.shape) != expected or not out.is_floating_point():
            got = f"a {out.dtype} tensor of shape {_shape(out)}" if isinstance(out, torch.Tensor) else f"a {type(out).__name__}"
            problems.append(
                f"{owner.blame}: as modality '{name}' it declares channels = {channels}, so its forward must return a float tensor "
                f"of shape {'×'.join(map(str, expected))}; it returned {got}"
            )
            broken = True
        inputs[name] = out
    return None if broken else inputs


def _task_path(model, inputs, owners, problems, causes) -> torch.Tensor | None:
    """The whole image through the backbone and the head; the logits, or None if the backbone broke."""
    backbone, owner = model.backbone, owners["backbone"]
    batch = next(iter(inputs.values())).shape[0]
    try:
        features = backbone.forward_pooled(match_channels(inputs[model.classify], backbone.in_chans))
    except Exception as exc:
        _raised(problems, causes, owner, "forward_pooled", exc)
        return None
    expected = (batch, getattr(backbone, "num_features", None))
    if not isinstance(features, torch.Tensor) or tuple(features.shape) != expected:
        problems.append(f"{owner.blame}: forward_pooled must return B×num_features = {expected[0]}×{expected[1]} features; it returned {_shape(features)}")
        return None
    return model.head(features)


def _ssl_path(model, inputs, owners, problems, causes) -> None:
    """The masked path: the objective's output must hold its losses, each a one-value tensor."""
    objective = model.objective
    if not objective.modalities:
        return
    try:
        out = objective(model.backbone, inputs)
    except Exception as exc:
        inside_backbone = raised_in(exc, getattr(type(model.backbone), "forward_masked", None))
        owner = owners["backbone"] if inside_backbone else owners["ssl"]
        _raised(problems, causes, owner, "forward_masked (called by the SSL objective)" if inside_backbone else "its forward", exc)
        return
    losses = getattr(out, "losses", None)
    if not isinstance(losses, Mapping) or not losses:
        problems.append(
            f"{owners['ssl'].blame}: reads modalities {list(objective.modalities)}, so its forward must return an SSLOutput whose "
            f"`losses` maps each loss term to a one-value tensor; it returned {type(out).__name__} with losses = {losses!r}"
        )
        return
    odd = {key: _shape(value) for key, value in losses.items() if not (isinstance(value, torch.Tensor) and value.numel() == 1)}
    if odd:
        problems.append(f"{owners['ssl'].blame}: each of its losses must be a one-value tensor; got {odd}")


def raised_in(exc: BaseException, function: Any) -> bool:
    """Whether ``function``'s code is on ``exc``'s traceback."""
    code = getattr(function, "__code__", None)
    frame = exc.__traceback__
    while frame is not None:
        if frame.tb_frame.f_code is code:
            return True
        frame = frame.tb_next
    return False


def _task_contract(task: Task, logits: torch.Tensor, info: DatasetInfo, owner: Component, problems: Problems, causes: list) -> None:
    """The task's loss on the batch's logits and its metrics over a split of the dataset's kinds."""
    label = getattr(task, "label", None)
    if label not in info.labels:
        problems.append(f"{owner.blame}: reads the label {label!r}, which the dataset does not give (it has {sorted(info.labels)})")
        return
    target, extras = dry_labels(info, label)
    try:
        loss = task.loss(logits.float(), target[: len(logits)].to(logits.device))  # as a training step calls it
    except Exception as exc:
        _raised(problems, causes, owner, "loss", exc)
    else:
        if not (isinstance(loss, torch.Tensor) and loss.numel() == 1):
            problems.append(f"{owner.blame}: loss must return a one-value tensor; it returned {_shape(loss)}")
    rows = torch.arange(len(target)) % len(logits)  # the batch's logits, repeated over the split
    try:
        metrics = task.metrics(logits[rows].float().cpu(), target, extras)  # as an evaluation calls it
    except Exception as exc:
        _raised(problems, causes, owner, "metrics", exc)
        return
    problems += [f"{owner.blame}: {problem}" for problem in _metrics_problems(metrics, getattr(task, "headline", None))]


def _metrics_problems(metrics: Any, headline: Any) -> Problems:
    if not isinstance(metrics, Mapping):
        return [f"metrics must return a dict of metric name to number; it returned {type(metrics).__name__}"]
    odd = sorted(str(key) for key, value in metrics.items() if not isinstance(key, str) or not isinstance(value, numbers.Real))
    problems = [f"metrics must map names to numbers (float, int); these are not: {', '.join(odd)}"] if odd else []
    if headline not in metrics:
        problems.append(f"its headline metric {headline!r} (what ranks runs and picks the best checkpoint) is not among its metrics {sorted(map(str, metrics))}")
    return problems


def dry_labels(info: DatasetInfo, label: str) -> tuple[torch.Tensor, dict[str, Any]]:
    """Targets and extras (``groups``, ``video``) of a small split with the dataset's label kinds,
    in which every value of every group holds every class (so that per-group metrics are defined)."""
    kind, names = info.labels[label].kind, info.labels[label].names
    classes = max(len(names), 2) if kind == "multiclass" else 2
    values = max((len(v) for v in info.groups.values()), default=1)
    count = min(max(DRY_IMAGES, classes * max(values, 1)), MAX_METRIC_SAMPLES)
    index = torch.arange(count)
    if kind == "multilabel":
        target = ((index[:, None] + torch.arange(len(names))[None, :]) % 2).float()
    else:
        target = index % classes
    extras: dict[str, Any] = {"groups": {group: (index // classes) % max(len(v), 1) for group, v in info.groups.items()}}
    if info.videos:
        extras["video"] = index.clone()
    return target, extras
