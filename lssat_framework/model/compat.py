"""Whether the parts of a validated spec fit together: what ``run`` refuses while building.

:func:`compatibility_problems` checks built parts: the modalities the backbone reads against its
``in_chans``, the image size against a backbone built for one size, against the patch grid the
objective masks and against every descriptor. :func:`~lssat_framework.model.build` runs it on the
parts it builds for a run. :func:`check_compatibility` runs the same checks for ``lssat validate``
without reading data: the backbone is built on the meta device (no memory, no initialisation, so
even a ViT-H is instant) and the image size is read from the dataset's ``image_size`` param. The
dataset itself is built only where a check needs its labels (``train.best_metric``) or where its
params give no image size; a dataset that cannot be built here (missing data) skips those checks,
which the run repeats.
"""

from __future__ import annotations

import difflib
from typing import Any

import torch

from ..errors import DataError, LssatError, SpecError
from ..interfaces import Backbone, DatasetInfo, SSLObjective, Task
from ..spec.resolved import ResolvedComponent, ResolvedSpec
from ..spec.schema import Spec

Problems = list[tuple[str, str]]


def compatibility_problems(
    spec: Spec, backbone: Backbone, objective: SSLObjective, descriptors: dict[str, Any], image_size: tuple[int, int] | None
) -> Problems:
    """Every way these parts cannot run together, as ``(spec path, message)``; ``image_size``
    None skips the checks that need it."""
    problems: Problems = []
    # only what the backbone reads must fit its input; a modality that is only reconstructed is
    # the decoder's output and may have any number of channels
    read: dict[str, list[str]] = {spec.classify: ["classify"]}
    mask_modality = getattr(objective, "mask_modality", None)
    if mask_modality is not None:
        read.setdefault(mask_modality, []).append("ssl mask")
    for name, roles in read.items():
        channels = descriptors[name].channels if name in descriptors else 0  # unknown: validation said so
        if channels > backbone.in_chans:
            problems.append((
                "backbone.params.in_chans",
                f"the backbone reads modality '{name}' ({' and '.join(roles)}), which has {channels} channels, "
                f"but takes {backbone.in_chans}; set in_chans: {channels}",
            ))
    if image_size is None:
        return problems
    height, width = image_size
    fixed = getattr(backbone, "image_size", None)  # e.g. a ViT's position table
    if fixed is not None and tuple(fixed) != (height, width):
        problems.append((
            "backbone.params.img_size",
            f"the backbone is built for {fixed[0]}×{fixed[1]} images but the data gives {height}×{width}; "
            f"set img_size: {height if height == width else [height, width]}",
        ))
    if objective.modalities:  # masking and reconstruction work on the patch grid
        try:
            grid = backbone.grid_size((height, width))
        except ValueError as exc:
            problems.append(("data.params.image_size", f"{exc}; pick an image size divisible by {backbone.patch_size}"))
        else:
            problems += _raised_value_errors("ssl.params", getattr(objective, "check_grid", None), grid)
    for name, descriptor in descriptors.items():
        path = f"descriptors.{name}.params" if name in spec.descriptors else "data.params.image_size"
        found = _raised_value_errors(path, getattr(descriptor, "check_image_size", None), (height, width))
        problems += [(where, f"modality '{name}' at {height}×{width} images: {message}") for where, message in found]
    return problems


def _raised_value_errors(path: str, check, argument) -> Problems:
    if check is None:  # a component that predates the check
        return []
    try:
        check(argument)
    except ValueError as exc:
        return [(path, str(exc))]
    return []


def best_metric_problems(spec: Spec, task: Task, info: DatasetInfo) -> Problems:
    """``train.best_metric`` against the metrics the task reports on this dataset (when it
    knows them in advance)."""
    wanted = spec.train.best_metric
    names = task.metric_names(info) if wanted else None
    if wanted and wanted.startswith("ema_") and spec.train.ema is None:  # train.ema.EMA_PREFIX
        return [("train.best_metric", f"'{wanted}' is a metric of the weight average, which this run does not keep; set train.ema or pick a metric without ema_")]
    if names and spec.train.ema is not None:  # the average is evaluated beside the live weights
        names = [*names, *(f"ema_{name}" for name in names)]
    if not names or wanted in names:
        return []
    close = difflib.get_close_matches(wanted, names, n=1)
    hint = f"did you mean '{close[0]}'? " if close else ""
    return [("train.best_metric", f"'{wanted}' is not a metric of this task; {hint}it reports {', '.join(names)} (each also accepted with the val_ prefix)")]


def check_best_metric(resolved: ResolvedSpec, task: Task, info: DatasetInfo) -> None:
    """Raise :class:`SpecError` when ``train.best_metric`` names no metric of the bound ``task``."""
    problems = best_metric_problems(resolved.spec, task, info)
    if problems:
        raise SpecError(problems, source=resolved.source)


def check_compatibility(resolved: ResolvedSpec, built: dict[str, Any] | None = None) -> None:
    """What ``run`` would refuse while building, checked without reading data (``lssat validate``).
    Raises :class:`SpecError` listing every problem. ``built`` caches parts between calls (the
    variants of a sweep share most of them)."""
    problems = _problems(resolved, {} if built is None else built)
    if problems:
        raise SpecError(problems, source=resolved.source)


def _problems(resolved: ResolvedSpec, built: dict[str, Any]) -> Problems:
    spec, components = resolved.spec, resolved.components
    problems: Problems = []
    info = None
    image_size = _image_size(components["data"].params.get("image_size"))
    if spec.train.best_metric or image_size is None:
        try:
            info = _once(built, components["data"], _build).info
            image_size = tuple(info.image_size)
        except DataError:
            pass  # no data here: the run checks again once it has read the dataset
    if info is not None:
        task = components["task"].build()
        try:
            task.bind(info)
        except (LssatError, ValueError) as exc:  # the task does not fit the dataset's labels
            problems.append(("task", str(exc)))
        else:
            problems += best_metric_problems(spec, task, info)
    try:
        backbone = _once(built, components["backbone"], _build_on_meta_device)
    except LssatError as exc:
        return problems + [("backbone.params", str(exc))]
    objective = components["ssl"].build()
    descriptors = {name: _once(built, rc, _build) for name, rc in resolved.modalities.items()}
    return problems + compatibility_problems(spec, backbone, objective, descriptors, image_size)


def _image_size(value: Any) -> tuple[int, int] | None:
    if isinstance(value, int):
        return value, value
    if isinstance(value, (tuple, list)) and len(value) == 2 and all(isinstance(v, int) for v in value):
        return value[0], value[1]
    return None


def _once(built: dict[str, Any], component: ResolvedComponent, make) -> Any:
    key = f"{component.component.kind}:{component.component.qualified_name}:{sorted(component.params.items())!r}"
    if key not in built:
        built[key] = make(component)
    return built[key]


def _build(component: ResolvedComponent) -> Any:
    return component.build()


def _build_on_meta_device(component: ResolvedComponent) -> Any:
    """The backbone's structure without its weights' memory; a factory that cannot build on the
    meta device is built on the CPU."""
    try:
        with torch.device("meta"):
            return component.build()
    except Exception:
        return component.build()
