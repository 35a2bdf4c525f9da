"""Checks that fail before the queue, not after it: a job that waits hours for a GPU and then dies
on a wrong data root is the worst error a cluster user meets.

Every distinct variant passes the checks ``lssat validate --build`` makes of how its parts fit
(image size against the patch grid, channels, the best metric), its backbone built on the meta
device; each distinct data section of the grid and each test set of its ``evaluate:`` list is
opened as far as its readers go without decoding an image (the root exists, the split lists are
there and name files that exist, the task fits the labels); and the output folder must be writable.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from ..errors import DataError, LssatError, SpecError
from ..files.safe import write_text_atomic
from ..spec.resolved import ResolvedSpec


def check_data(resolved: ResolvedSpec) -> None:
    """Open the spec's dataset (lists only, no image decoded), check that its training and
    validation splits hold samples and that the task fits its labels; raise a clear error."""
    source = resolved.components["data"].build()
    if callable(getattr(source, "check", None)):
        source.check()
    for split in ("train", "val"):
        if split not in source.splits:
            raise DataError(f"data: the dataset has splits {list(source.splits)}, no '{split}' split to train or evaluate on")
        if len(source.split(split)) == 0:
            raise DataError(f"data: the '{split}' split is empty; check data.params (root, lists, sizes)")
    task = resolved.components["task"].build()
    try:
        task.bind(source.info)
    except ValueError as exc:
        raise DataError(f"task: {exc}") from None


def check_writable(out_dir: Path) -> None:
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        probe = out_dir / f".write-test-{os.getpid()}"
        write_text_atomic(probe, "")  # never through a link planted under that name
        probe.unlink()
    except OSError as exc:
        raise LssatError(f"--out {out_dir}: cannot write there ({exc.strerror}); choose another folder") from None


def check_grid_data(variants: list) -> None:
    """Every distinct dataset (and task) of ``variants`` (see :func:`check_data`); every problem
    reported at once."""
    problems, checked = [], set()
    for variant in variants:
        raw = variant.resolved.raw
        key = json.dumps([raw.get("data"), raw.get("task"), raw.get("evaluate")], sort_keys=True, default=str)
        if key in checked:
            continue
        checked.add(key)
        try:
            check_data(variant.resolved)
            check_test_sets(variant.resolved)
        except (LssatError, OSError, ValueError) as exc:
            problems.append(f"  {variant.name}: {exc}" if variant.name else f"  {exc}")
    if problems:
        raise DataError("the data of some variants cannot be used (nothing was launched):\n" + "\n".join(problems))


def check_grid_builds(variants: list) -> None:
    """What building each variant would refuse (:func:`~lssat_framework.model.compat.check_compatibility`,
    no data read, parts shared between variants built once); every problem at once, each named
    by its variant."""
    from ..model.compat import check_compatibility

    problems, built, checked = [], {}, set()
    for variant in variants:
        key = json.dumps(variant.resolved.raw, sort_keys=True, default=str)
        if key in checked:
            continue
        checked.add(key)
        try:
            check_compatibility(variant.resolved, built)
        except SpecError as exc:
            problems += [(f"sweep[{variant.name}] {path}", message) for path, message in exc.problems]
    if problems:  # as `lssat validate --build` words them
        raise SpecError(problems, source=variants[0].resolved.source)


def check_test_sets(resolved: ResolvedSpec) -> None:
    """Open each test set of the spec's ``evaluate:`` list as the run will when it ends (lists
    only): its data must be there now, not after hours of training."""
    from ..spec.validation import validate_spec
    from ..train.cross import spec_test_sets, test_set_data

    raw = {k: v for k, v in resolved.raw.items() if k not in ("evaluate", "sweep")}
    for index, test_set in enumerate(spec_test_sets(resolved.spec)):
        where = f"evaluate[{index}] ({test_set.label or test_set.dataset})"
        try:
            spec = validate_spec({**raw, "data": test_set_data(test_set, resolved.raw["data"])}, source=where)
            source = spec.components["data"].build()
            if callable(getattr(source, "check", None)):
                source.check()
        except (LssatError, OSError, ValueError) as exc:
            raise DataError(f"{where}: {str(exc).strip()}") from None
        if not any(split in source.splits and len(source.split(split)) for split in ("test", "val")):
            raise DataError(f"{where}: no samples in its test or val split; check its params (root, lists)")


def check_before_launch(variants: list, out_dir: Path, data: bool = True) -> None:
    """Everything that would stop a variant that is sure to fail, before any job is queued;
    ``data`` False skips opening the datasets (``--no-check-data``)."""
    check_writable(out_dir)
    check_grid_builds(variants)
    if data:
        check_grid_data(variants)


def check_spec_data(resolved: ResolvedSpec) -> None:
    """``lssat validate --check-data``: the data of a spec, or of every variant of its sweep."""
    from .grid import expand

    if resolved.spec.sweep:
        check_grid_data(expand(resolved))
    else:
        check_data(resolved)
