"""Where each variant stands, read from files that only one writer ever writes.

A variant's directory is its run directory (``spec.yaml``, ``metrics.jsonl``, ``summary.json``,
checkpoints: the trainer's files) plus two files of the sweep:

``job.json``         written by the job itself (its main process): running, requeued, done or
                     failed (with the error), its job id, host and process id
``submission.json``  written by the launcher that submitted it: launcher, job id, and, when the
                     job ended without a word of its own (killed), why

The sweep folder holds ``sweep.json``, the grid as last launched (every variant's name, axes and
resolved spec), so that status and collection need only the folder. Nothing is appended to a
shared file: shared files are rebuilt from these and written atomically.
"""

from __future__ import annotations

import json
import os
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import LssatError
from ..files.safe import UnsafePathError, is_inside, write_bytes_atomic
from ..spec.changes import spec_differences

JOB_FILE = "job.json"
SUBMISSION_FILE = "submission.json"
MANIFEST_FILE = "sweep.json"
#: a variant's states: ``cancelled`` is the scheduler's word on a job stopped by hand (scancel),
#: ``stale`` a variant whose stored spec differs from the one asked for (its results are not
#: those of this spec; ``--rerun-changed`` runs it again)
STATES = ("done", "running", "requeued", "pending", "failed", "cancelled", "stale")
#: the states of a variant that ended without a result
ENDED_WITHOUT_RESULT = ("failed", "cancelled")


def write_atomic(path: Path, text: str | bytes) -> None:
    """Write a whole file, never through a symlink (:func:`~lssat_framework.files.safe.write_bytes_atomic`):
    jobs finishing together rebuild the shared files at once, and readers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    write_bytes_atomic(path, text.encode() if isinstance(text, str) else text)


def write_json(path: Path, data: Any) -> None:
    write_atomic(path, json.dumps(data, indent=2) + "\n")


def read_json(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def is_main_process() -> bool:
    """Only the first process of a multi-process run writes the sweep's files."""
    return os.environ.get("RANK", "0") == "0"


def mark_job(run_dir: Path, state: str, **fields: Any) -> None:
    """The job's own word on its state (``job.json``)."""
    if not is_main_process():
        return
    previous = {k: v for k, v in (read_json(run_dir / JOB_FILE) or {}).items() if k not in ("error", "traceback")}
    attempt = previous.get("attempt", 0) + (state == "running")
    job_id = fields.pop("job_id", None) or previous.get("job_id")
    record = {**previous, "state": state, "job_id": job_id, "attempt": attempt, "host": socket.gethostname(), "pid": os.getpid(), "updated": time.time(), **fields}
    write_json(run_dir / JOB_FILE, record)


def record_submission(run_dir: Path, launcher: str, job_id: str | None, ended: str | None = None) -> None:
    """The launcher's word (``submission.json``): what it submitted, and why a job that said
    nothing itself ended."""
    record = {"launcher": launcher, "job_id": job_id, "host": socket.gethostname(), "submitted": time.time(), "ended": ended}
    old = read_json(run_dir / SUBMISSION_FILE)
    if ended is not None and old and old.get("job_id") == job_id:
        record["submitted"] = old.get("submitted")
    write_json(run_dir / SUBMISSION_FILE, record)


def forget_job(run_dir: Path) -> None:
    """Before a new attempt: the previous attempt's state no longer speaks for the variant."""
    for name in (JOB_FILE, SUBMISSION_FILE):
        (run_dir / name).unlink(missing_ok=True)


# ------------------------------------------------------------------ status
@dataclass
class VariantStatus:
    index: int
    name: str
    state: str
    epoch: int = 0
    epochs: int | None = None
    value: float | None = None
    job_id: str | None = None
    error: str | None = None


def last_record(run_dir: Path) -> dict[str, Any] | None:
    """The last whole epoch record of a variant (None: none, or a damaged file)."""
    path = run_dir / "metrics.jsonl"
    if not path.is_file():
        return None
    try:
        lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        record = json.loads(lines[-1]) if lines else None
    except (OSError, ValueError):  # a torn last line, or not text at all
        return None
    return record if isinstance(record, dict) else None


def variant_status(index: int, name: str, run_dir: Path, raw: dict[str, Any], headline: str | None, scheduler: dict[str, str] | None = None) -> VariantStatus:
    """A variant's state from its files, corrected by what the scheduler says of its job
    (``scheduler``: job id -> Slurm-like state) and by whether a local job's process still lives."""
    job = read_json(run_dir / JOB_FILE) or {}
    submission = read_json(run_dir / SUBMISSION_FILE) or {}
    job_id = job.get("job_id") or submission.get("job_id")
    record = last_record(run_dir) or {}
    status = VariantStatus(index, name, "pending", record.get("epoch", 0), raw.get("train", {}).get("epochs"), job_id=job_id)
    status.value = record.get(f"val_{headline}") if headline else None
    changed = spec_differences(run_dir, raw)
    if changed:
        status.state, status.value = "stale", None
        status.error = f"run with another spec ({', '.join(changed[:3])}{', ...' if len(changed) > 3 else ''}); --rerun-changed runs it again"
        return status
    summary = read_json(run_dir / "summary.json")
    if summary is not None:
        status.state, status.value = "done", summary.get("final", {}).get(summary.get("headline", headline))
        return status
    if job.get("state") in ("failed", "running", "requeued"):
        status.state, status.error = job["state"], job.get("error")
    elif submission.get("job_id"):
        status.state = "pending"
    if status.state in ("running", "requeued", "pending") and submission.get("ended"):
        status.state, status.error = "failed", submission["ended"]
    elif status.state in ("running", "requeued", "pending") and job_id and scheduler and job_id in scheduler:
        status.state, status.error = _from_scheduler(status.state, scheduler[job_id])
    elif status.state == "running" and job.get("host") == socket.gethostname() and not _alive(job.get("pid")):
        status.state, status.error = "failed", f"its process {job.get('pid')} is gone (killed?); launch the sweep again to resume it"
    return status


def _from_scheduler(state: str, scheduler_state: str) -> tuple[str, str | None]:
    word = scheduler_state.split()[0].upper() if scheduler_state else ""
    if word in ("PENDING", "CONFIGURING"):
        return "requeued" if state == "requeued" else "pending", None
    if word in ("RUNNING", "COMPLETING"):
        return "running", None
    if word in ("REQUEUED", "REQUEUE_HOLD", "REQUEUE_FED", "PREEMPTED", "SUSPENDED"):
        return "requeued", None
    if word == "CANCELLED":
        return "cancelled", "cancelled in the scheduler (scancel) before it finished; launch the sweep again to resume it"
    if word in ("FAILED", "TIMEOUT", "NODE_FAIL", "OUT_OF_MEMORY", "BOOT_FAIL", "DEADLINE", "COMPLETED"):
        return "failed", f"the scheduler reports {word} and the run did not finish; launch the sweep again to resume it"
    return state, None


def _alive(pid: Any) -> bool:
    if not isinstance(pid, int):
        return True  # unknown: trust the job's word
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# ------------------------------------------------------------------ manifest
def write_manifest(out_dir: Path, manifest: dict[str, Any]) -> None:
    write_json(out_dir / MANIFEST_FILE, manifest)


def read_manifest(out_dir: Path) -> dict[str, Any]:
    manifest = read_json(Path(out_dir) / MANIFEST_FILE)
    if manifest is None:
        raise LssatError(f"{out_dir}: no {MANIFEST_FILE} here; it is written when a sweep is launched into this folder (lssat sweep SPEC --out {out_dir})")
    check_inside(Path(out_dir), [variant["name"] for variant in manifest["variants"]])
    return manifest


def check_inside(out_dir: Path, names: list[str]) -> None:
    """Refuse a variant whose folder would not lie inside the sweep folder (a name with '..' or
    '/', a symlink to elsewhere): everything the sweep writes or deletes stays in ``out_dir``."""
    for name in names:
        if not isinstance(name, str) or not is_inside(out_dir, out_dir / name):
            raise UnsafePathError(f"variant {name!r}: its folder {out_dir / str(name)} is not inside the sweep folder {out_dir}; "
                                  "nothing was written or deleted")
