"""One variant, run where a launcher put it: in this process, or as a job of submitit.

:class:`VariantJob` is the callable a launcher submits (as in the MAE, DeiT and DINO submitit
scripts): inside the job it exports the torch.distributed environment of submitit's job (so
accelerate sees an ordinary multi-process launch), trains, and on Slurm's USR2 (time limit or
preemption) its :meth:`VariantJob.checkpoint` requeues a fresh copy of itself, which resumes from
the last checkpoint. An exception marks the variant failed with its message and is not retried.
"""

from __future__ import annotations

import os
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import LssatError
from ..files.lock import RunLockedError, holder_is_alive, read_holder
from ..spec.resolved import ResolvedSpec
from .state import is_main_process, mark_job


def job_id_from_environment() -> str | None:
    """The scheduler's id of the job this process belongs to, where there is one."""
    for name in ("SLURM_ARRAY_JOB_ID", "SLURM_JOB_ID", "SUBMITIT_LOCAL_JOB_ID", "PBS_JOBID", "LSB_JOBID", "JOB_ID"):
        if os.environ.get(name):
            if name == "SLURM_ARRAY_JOB_ID" and os.environ.get("SLURM_ARRAY_TASK_ID"):
                return f"{os.environ[name]}_{os.environ['SLURM_ARRAY_TASK_ID']}"
            return os.environ[name]
    if os.environ.get("JOB_COMPLETION_INDEX"):  # a Kubernetes Indexed Job: the pod names it
        return os.environ.get("HOSTNAME") or os.environ["JOB_COMPLETION_INDEX"]
    return None


def live_writer(run_dir: Path) -> dict[str, Any] | None:
    """The process writing ``run_dir`` now (its lock's holder), or None."""
    holder = read_holder(run_dir)
    if holder is None or holder.get("pid") == os.getpid() or not holder_is_alive(holder):
        return None
    return holder


def run_variant(resolved: ResolvedSpec, run_dir: Path, job_id: str | None = None) -> dict[str, Any]:
    """Train one variant into ``run_dir``, resuming from its checkpoint when it has one; its
    ``job.json`` says running, then done or failed (with the error, re-raised)."""
    from .. import train as training

    holder = live_writer(run_dir)
    if holder is not None:  # touch nothing of a variant another process is training
        raise RunLockedError(run_dir, holder)
    run_dir.mkdir(parents=True, exist_ok=True)
    started = training.find_checkpoint(run_dir / "checkpoints" / "last") is not None
    if not started and is_main_process() and (run_dir / "metrics.jsonl").exists() and not (run_dir / "summary.json").exists():
        # stopped after writing an epoch's metrics but before its first checkpoint: start over
        (run_dir / "metrics.jsonl").unlink()
    mark_job(run_dir, "running", job_id=job_id or job_id_from_environment(), resumed=started)
    try:
        summary = training.train(resolved, run_dir, resume=started)
    except RunLockedError:
        raise  # another writer took it first: its job.json is the other writer's to keep
    except Exception as exc:
        mark_job(run_dir, "failed", error=one_line(exc), traceback=traceback.format_exc()[-4000:])
        raise
    mark_job(run_dir, "done")
    return summary


def one_line(exc: Exception) -> str:
    """An error as ``--status``, the leaderboard and the answers show it: its lines joined into one
    (a spec error's header and its problems), at most 500 characters."""
    message = str(exc) if isinstance(exc, LssatError) else f"{type(exc).__name__}: {exc}"
    return "; ".join(line.strip() for line in message.splitlines() if line.strip())[:500] or type(exc).__name__


def export_distributed_environment() -> None:
    """Inside a submitit job of several tasks: MASTER_ADDR/PORT, RANK, WORLD_SIZE and LOCAL_RANK
    from the job's environment, for accelerate's ``env://`` set-up. Each process keeps every GPU
    of its node visible and picks ``cuda:LOCAL_RANK`` (a local launcher may have given the job a
    slice such as GPUs 2,3; renumbering them per rank would pick the wrong ones)."""
    import submitit

    environment = submitit.JobEnvironment()
    if environment.num_tasks <= 1:
        return
    submitit.helpers.TorchDistributedEnvironment().export(set_cuda_visible_devices=False, overwrite=True)
    if not os.environ.get("CUDA_VISIBLE_DEVICES"):
        os.environ.setdefault("ACCELERATE_USE_CPU", "1")  # gloo between CPU processes


@dataclass
class VariantJob:
    """What a launcher runs for one variant; picklable (plain data: the spec is validated again
    inside the job, where the plugins are imported)."""

    raw: dict[str, Any]
    source: str | None
    run_dir: str
    #: the sweep folder: rebuild its leaderboard when this variant is done (jobs nobody waits for)
    collect_into: str | None = None

    def __call__(self) -> str:
        from ..spec.validation import validate_spec

        if os.environ.get("SUBMITIT_EXECUTOR"):
            export_distributed_environment()
        try:
            resolved = validate_spec(self.raw, source=self.source)
        except Exception as exc:  # e.g. a plugin missing where the job runs: say so where --status reads it
            mark_job(Path(self.run_dir), "failed", error=one_line(exc))
            raise
        from ..train import leave_process_group

        try:
            run_variant(resolved, Path(self.run_dir))
        finally:
            leave_process_group()  # the job's processes are done training
        if self.collect_into and is_main_process():
            try:
                from .collect import collect

                collect(Path(self.collect_into), quiet=True)
            except Exception as exc:  # the variant is done: a shared-file problem must not fail it
                print(f"lssat: warning: could not rebuild the leaderboard in {self.collect_into}: {exc}", file=sys.stderr)
        return "done"

    def checkpoint(self, *args: Any, **kwargs: Any):
        """Called by submitit on USR2 in the main process: requeue a fresh copy, which resumes
        from the last checkpoint the run saved (``train.checkpoint_every`` for long epochs)."""
        import submitit

        mark_job(Path(self.run_dir), "requeued")
        return submitit.helpers.DelayedSubmission(type(self)(self.raw, self.source, self.run_dir, self.collect_into))

