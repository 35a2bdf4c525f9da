"""Resumable checkpoints, written and read without pickle, swapped in atomically.

A checkpoint folder holds the model (``model.safetensors``), the optimiser, the schedule, the
weight average and the loss scaler as :mod:`.tensor_tree` files (JSON beside safetensors), each
process's random generators (``rng_<process>.json``) and the trainer's counters
(``trainer_state.json``). Reading any of them runs no code, so a run folder from someone else can
be resumed safely. Folders in accelerate's pickled format (``*.pkl``, ``*.bin``), written by
earlier versions, are refused (:func:`refuse_pickled`).

A save writes ``<dir>.tmp`` completely (the trainer state file last, so its presence marks a
complete copy), then moves the current ``<dir>`` aside to ``<dir>.old``, moves the new copy into
place and deletes the old one. A kill or a full disk at any point leaves at least one complete
copy, and the next save or resume copes with whatever was left (:func:`find_checkpoint`).
"""

from __future__ import annotations

import dataclasses
import errno
import json
import os
import re
import shutil
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import save_file

from ..errors import TrainingError
from ..files.safe import remove_tree, write_text_atomic
from .rng import rng_state, set_rng_state
from .tensor_tree import DamagedStateError, load_safetensors, load_tree, read_json, save_tree, write_npz_atomic

STATE_FILE = "trainer_state.json"
MODEL_FILE = "model.safetensors"
EMA_FILE = "ema.safetensors"
#: the per-sample outputs of these weights on validation (numpy arrays, read without pickle)
PREDICTIONS_FILE = "predictions.npz"


def predictions_file(split: str) -> str:
    """The file of a checkpoint's per-sample outputs on ``split``: ``predictions.npz`` for
    validation (saved with the checkpoint), ``predictions_<split>.npz`` for another split."""
    return PREDICTIONS_FILE if split == "val" else f"predictions_{split}.npz"
#: what accelerate's own checkpoints hold: pickles, which can run code when read
PICKLED_SUFFIXES = (".pkl", ".bin", ".pt", ".pth")


@dataclasses.dataclass
class Resumable:
    """What a checkpoint holds besides the trainer's counters."""

    model: torch.nn.Module  # unwrapped: the names of the plain model
    optimizer: Any
    scheduler: Any
    ema: torch.nn.Module | None = None
    scaler: Any | None = None  # fp16's loss scaler


def write_json_atomic(path: Path, data: Any) -> None:
    write_text_atomic(path, json.dumps(data, indent=2))


def _sibling(directory: Path, suffix: str) -> Path:
    return directory.with_name(directory.name + suffix)


def _write_parts(folder: Path, parts: Resumable, process_index: int, main: bool) -> None:
    save_tree(rng_state(), folder, f"rng_{process_index}")
    if not main:  # the processes' weights and optimiser states are equal: one copy
        return
    save_file({k: v.detach().contiguous() for k, v in parts.model.state_dict().items()}, str(folder / MODEL_FILE))
    save_tree(parts.optimizer.state_dict(), folder, "optimizer_state")
    save_tree(parts.scheduler.state_dict(), folder, "schedule")
    if parts.ema is not None:
        save_file({k: v.detach().contiguous() for k, v in parts.ema.state_dict().items()}, str(folder / EMA_FILE))
    if parts.scaler is not None:
        save_tree(parts.scaler.state_dict(), folder, "scaler")


def _size_mib(parts: Resumable) -> float:
    states = [parts.model.state_dict(), parts.optimizer.state_dict()["state"], *([parts.ema.state_dict()] if parts.ema is not None else [])]
    total, stack = 0, list(states)
    while stack:
        value = stack.pop()
        if isinstance(value, torch.Tensor):
            total += value.numel() * value.element_size()
        elif isinstance(value, dict):
            stack += list(value.values())
    return total / 2**20


def _as_os_error(error: Exception) -> OSError:
    """safetensors reports a failed write as its own error, with the OS's code in the text."""
    if isinstance(error, OSError):
        return error
    found = re.search(r"\(os error (\d+)\)", str(error))
    code = int(found.group(1)) if found else errno.EIO
    return OSError(code, os.strerror(code))


def _failure(error: Exception, directory: Path, parts: Resumable) -> str:
    error = _as_os_error(error)
    if error.errno == errno.ENOSPC:
        free = shutil.disk_usage(directory.parent).free / 2**20
        return (
            f"no space left on the device while saving the checkpoint {directory}: it needs about {_size_mib(parts):.0f} MiB, "
            f"{free:.0f} MiB are free there. The previous checkpoint is intact: free some space and continue with --resume"
        )
    return f"cannot save the checkpoint {directory}: {error.strerror or error} ({error.filename or directory})"


def _every_failure(accelerator, failure: str | None) -> list[str]:
    """Each process's failure (a collective: every process waits here for the others)."""
    if accelerator.num_processes == 1:
        return [failure] if failure else []
    from accelerate.utils import gather_object

    return [f for f in gather_object([failure]) if f]


def save_checkpoint(accelerator, directory: Path, parts: Resumable, state: dict[str, Any], predictions: dict[str, Any] | None = None) -> None:
    """Write ``parts`` and ``state`` to ``directory``, with ``predictions`` (arrays: the per-sample
    outputs these weights gave on validation, ``predictions.npz``) where given; a kill or a full
    disk never leaves it unusable."""
    tmp, old, main = _sibling(directory, ".tmp"), _sibling(directory, ".old"), accelerator.is_main_process
    if main:
        if tmp.exists() or tmp.is_symlink():
            remove_tree(tmp, directory.parent)
        tmp.mkdir(parents=True)
    accelerator.wait_for_everyone()
    failure = None
    try:
        _write_parts(tmp, parts, accelerator.process_index, main)
        if main and predictions is not None:
            write_npz_atomic(tmp / PREDICTIONS_FILE, predictions)
    except (OSError, SafetensorError) as error:
        failure = _failure(error, directory, parts)
    failures = _every_failure(accelerator, failure)  # every process's files are in tmp before it moves
    if main and not failures:
        try:
            write_json_atomic(tmp / STATE_FILE, state)
            _swap(directory, tmp, old)
        except OSError as error:
            failure = _failure(error, directory, parts)
        failures = [failure] if failure else []
    if accelerator.num_processes > 1:
        failures = _every_failure(accelerator, failures[0] if failures else None)
    if failures:
        if main and tmp.is_dir() and not (tmp / STATE_FILE).exists():
            shutil.rmtree(tmp, ignore_errors=True)  # frees the space the partial copy took
        raise TrainingError(failures[0])


def _swap(directory: Path, tmp: Path, old: Path) -> None:
    if directory.exists():
        # a kill after the last swap may have left an old copy: the current one is complete
        if old.exists():
            remove_tree(old, directory.parent)
        os.replace(directory, old)
    os.replace(tmp, directory)
    if old.exists():
        remove_tree(old, directory.parent)


def refuse_pickled(folder: Path) -> None:
    """Refuse a checkpoint in accelerate's pickled format: reading a pickle can run any code."""
    pickled = sorted(p.name for p in folder.iterdir() if p.suffix in PICKLED_SUFFIXES)
    if pickled:
        raise DamagedStateError(
            f"{folder} holds pickled files ({', '.join(pickled[:4])}): a checkpoint in the format of lssat-framework before 0.2, "
            "or files planted there. Reading a pickle can run any code, so they are never read. The run cannot be resumed; "
            "its weights can still be evaluated (lssat eval / predict read only .safetensors). See docs/security.md"
        )


def load_checkpoint(folder: Path, parts: Resumable, process_index: int) -> None:
    """Restore ``parts`` and this process's random generators from ``folder``."""
    refuse_pickled(folder)
    loads = [
        (parts.model, lambda: load_safetensors(folder / MODEL_FILE), MODEL_FILE),
        (parts.optimizer, lambda: load_tree(folder, "optimizer_state"), "optimizer_state.json"),
        (parts.scheduler, lambda: load_tree(folder, "schedule"), "schedule.json"),
        *([(parts.ema, lambda: load_safetensors(folder / EMA_FILE), EMA_FILE)] if parts.ema is not None else []),
        *([(parts.scaler, lambda: load_tree(folder, "scaler"), "scaler.json")] if parts.scaler is not None else []),
    ]
    for target, read, name in loads:
        state = read()
        try:
            target.load_state_dict(state)
        except (RuntimeError, KeyError, ValueError, TypeError, IndexError) as error:
            first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            raise DamagedStateError(f"{folder / name} does not fit this run ({first[:300]}); resume with the spec the run was started with") from None
    rng_name = f"rng_{process_index}"
    if (folder / f"{rng_name}.json").exists():
        set_rng_state(load_tree(folder, rng_name), folder / f"{rng_name}.json")


def find_checkpoint(directory: Path) -> Path | None:
    """The newest complete copy of a checkpoint: ``<dir>``, else a finished ``<dir>.tmp`` (a kill
    came between moving the old copy aside and moving the new one in), else ``<dir>.old``."""
    for candidate in (directory, _sibling(directory, ".tmp"), _sibling(directory, ".old")):
        if (candidate / STATE_FILE).is_file():
            return candidate
    return None


def read_state(checkpoint: Path) -> dict[str, Any]:
    path = checkpoint / STATE_FILE
    state = read_json(path)
    if not isinstance(state, dict):
        raise DamagedStateError(f"{path}: holds a {type(state).__name__}, not the trainer's counters")
    return state


def tidy_checkpoint(directory: Path) -> None:
    """Leave exactly ``<dir>`` behind: the newest complete copy moved into place, the others
    deleted (a kill inside a swap leaves two; the next save tidies too, but a run resumed at its
    very end saves nothing more)."""
    newest = find_checkpoint(directory)
    if newest is not None and newest != directory:
        if directory.exists():
            remove_tree(directory, directory.parent)
        os.replace(newest, directory)
    for leftover in (_sibling(directory, ".tmp"), _sibling(directory, ".old")):
        if leftover.exists():
            remove_tree(leftover, directory.parent)
