"""Checks that fail before the queue, not after it: a job that waits hours for a GPU and then dies
on a wrong data root is the worst error a cluster user meets.

Each distinct data section of the grid is opened as far as its readers go without decoding an
image (the root exists, the split lists are there and name files that exist, the task fits the
labels), and the output folder must be writable.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from ..errors import DataError, LssatError
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
        key = json.dumps([raw.get("data"), raw.get("task")], sort_keys=True, default=str)
        if key in checked:
            continue
        checked.add(key)
        try:
            check_data(variant.resolved)
        except (LssatError, OSError, ValueError) as exc:
            problems.append(f"  {variant.name}: {exc}" if variant.name else f"  {exc}")
    if problems:
        raise DataError("the data of some variants cannot be used (nothing was launched):\n" + "\n".join(problems))


def check_before_launch(variants: list, out_dir: Path) -> None:
    check_writable(out_dir)
    check_grid_data(variants)


def check_spec_data(resolved: ResolvedSpec) -> None:
    """``lssat validate --check-data``: the data of a spec, or of every variant of its sweep."""
    from .grid import expand

    if resolved.spec.sweep:
        check_grid_data(expand(resolved))
    else:
        check_data(resolved)
