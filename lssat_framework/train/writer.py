"""The run directory's writer lock (:mod:`lssat_framework.files.lock`) in a multi-process run: the main
process takes it, the other processes learn the outcome and follow."""

from __future__ import annotations

import contextlib
from pathlib import Path

from ..errors import LssatError
from ..files.lock import RunLock, RunLockedError


@contextlib.contextmanager
def writing(accelerator, directory: Path):
    """Hold ``directory``'s writer lock (main process) for the body; every process raises the
    main process's refusal, so that none trains alone."""
    from accelerate.utils import broadcast_object_list

    lock, error = None, None
    if accelerator.is_main_process:
        lock = RunLock(directory)
        try:
            lock.acquire()
        except RunLockedError as exc:
            lock, error = None, exc
    refusal = str(error) if error is not None else None
    if accelerator.num_processes > 1:
        refusal = broadcast_object_list([refusal])[0]
    if error is not None:
        raise error
    if refusal is not None:
        raise LssatError(refusal)
    try:
        yield lock
    finally:
        if lock is not None:
            lock.release()
