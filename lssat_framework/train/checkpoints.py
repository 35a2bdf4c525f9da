"""Resumable checkpoints: accelerate's state plus the trainer's own counters, swapped in atomically.

A save writes ``<dir>.tmp`` completely (the trainer state file last, so its presence marks a
complete copy), then moves the current ``<dir>`` aside to ``<dir>.old``, moves the new copy into
place and deletes the old one. A kill at any point leaves at least one complete copy, and the
next save or resume copes with whatever the kill left (:func:`find_checkpoint`).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

STATE_FILE = "trainer_state.json"


def write_json_atomic(path: Path, data: Any) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2))
    os.replace(tmp, path)


def _sibling(directory: Path, suffix: str) -> Path:
    return directory.with_name(directory.name + suffix)


def save_checkpoint(accelerator, directory: Path, state: dict[str, Any]) -> None:
    """Write accelerate's state and ``state`` to ``directory``; a kill never leaves it unusable."""
    tmp, old = _sibling(directory, ".tmp"), _sibling(directory, ".old")
    if accelerator.is_main_process and tmp.exists():
        shutil.rmtree(tmp)
    accelerator.wait_for_everyone()
    accelerator.save_state(str(tmp))
    accelerator.wait_for_everyone()  # every process's files are in tmp before it moves
    if accelerator.is_main_process:
        write_json_atomic(tmp / STATE_FILE, state)
        if directory.exists():
            # a kill after the last swap may have left an old copy: the current one is complete
            if old.exists():
                shutil.rmtree(old)
            os.replace(directory, old)
        os.replace(tmp, directory)
        if old.exists():
            shutil.rmtree(old)
    accelerator.wait_for_everyone()


def find_checkpoint(directory: Path) -> Path | None:
    """The newest complete copy of a checkpoint: ``<dir>``, else a finished ``<dir>.tmp`` (a kill
    came between moving the old copy aside and moving the new one in), else ``<dir>.old``."""
    for candidate in (directory, _sibling(directory, ".tmp"), _sibling(directory, ".old")):
        if (candidate / STATE_FILE).is_file():
            return candidate
    return None


def read_state(checkpoint: Path) -> dict[str, Any]:
    return json.loads((checkpoint / STATE_FILE).read_text())


def tidy_checkpoint(directory: Path) -> None:
    """Leave exactly ``<dir>`` behind: the newest complete copy moved into place, the others
    deleted (a kill inside a swap leaves two; the next save tidies too, but a run resumed at its
    very end saves nothing more)."""
    newest = find_checkpoint(directory)
    if newest is not None and newest != directory:
        if directory.exists():
            shutil.rmtree(directory)
        os.replace(newest, directory)
    for leftover in (_sibling(directory, ".tmp"), _sibling(directory, ".old")):
        if leftover.exists():
            shutil.rmtree(leftover)
