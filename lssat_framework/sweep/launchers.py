"""Where the jobs of a sweep run: one small seam, three launchers.

``inline``  each job in turn, in this process (no dependency);
``local``   submitit's LocalExecutor: up to ``parallel`` jobs at once on this machine, each given
            its own GPUs and the same time limit and requeue path as on a cluster;
``slurm``   submitit's Slurm executor: one job-array element per job, at most ``parallel``
            running, USR2 before the time limit, requeued on timeout or preemption.

A launcher runs plain callables (:class:`LaunchItem`); it knows nothing of sweeps. ``submitit``
is imported only by the launchers that need it.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from ..errors import LssatError
from ..spec.launcher import CONTROL_CHARACTER, LauncherSpec

NAMES = ("inline", "local", "slurm")
#: requeues after a time limit or preemption before a job gives up (as the MAE scripts allow)
MAX_REQUEUES = 30


@dataclass
class LaunchItem:
    name: str
    job: Callable[[], Any]


#: called with (item, job id) when a job is submitted, and (item, error or None) when it ends
OnSubmit = Callable[[LaunchItem, "str | None"], None]
OnEnd = Callable[[LaunchItem, "str | None"], None]


def _submitit():
    try:
        import submitit
    except ImportError:
        raise LssatError("--launcher local|slurm needs the submitit package (pip install submitit)") from None
    return submitit


def signal_delay_s(timeout_min: float) -> int:
    """Seconds between USR2 and the time limit: 120 as the MAE scripts use, less for short limits."""
    return int(min(120, max(5, timeout_min * 60 / 4)))


class InlineLauncher:
    """Each job in turn, in this process; a job that raises is reported and the next one runs."""

    name = "inline"
    waits = True

    def check(self) -> None:
        pass

    def launch(self, items: list[LaunchItem], on_submit: OnSubmit, on_end: OnEnd) -> None:
        for item in items:
            on_submit(item, None)
            try:
                item.job()
            except Exception as exc:
                on_end(item, str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__)
            else:
                on_end(item, None)


class LocalLauncher:
    """Up to ``settings.parallel`` jobs at once on this machine through submitit's LocalExecutor;
    job ``k`` of the ``parallel`` slots sees GPUs ``k·g … k·g + g - 1`` (``g = gpus_per_node``)."""

    name = "local"
    waits = True

    def __init__(self, settings: LauncherSpec, folder: Path, poll_s: float = 0.5):
        self.settings, self.folder, self.poll_s = settings, Path(folder), poll_s

    def check(self) -> None:
        _submitit()
        if self.settings.nodes > 1:
            raise LssatError(f"launcher.nodes: {self.settings.nodes}; the local launcher runs on this one machine (nodes: 1), use --launcher slurm for several nodes")
        wanted = self.settings.parallel * self.settings.gpus_per_node
        if wanted:
            import torch

            have = torch.cuda.device_count()
            if wanted > have:
                raise LssatError(
                    f"launcher: parallel {self.settings.parallel} × gpus_per_node {self.settings.gpus_per_node} = {wanted} GPUs, "
                    f"this machine has {have}; lower --parallel or launcher.gpus_per_node"
                )

    def threads_per_process(self) -> int:
        """Each process's share of the cores this sweep may use, at most ``cpus_per_task``: the
        ``parallel`` jobs of one or ``gpus_per_node`` processes each never run more threads than
        there are cores (a job's ``train.threads``, where set, still wins)."""
        from ..train.accelerator import usable_cores

        processes = self.settings.parallel * self.settings.processes_per_node
        return max(1, min(self.settings.cpus_per_task, usable_cores() // processes))

    def _executor(self):
        submitit = _submitit()
        executor = submitit.LocalExecutor(folder=self.folder / "%j", max_num_timeout=MAX_REQUEUES)
        executor.update_parameters(timeout_min=self.settings.timeout_min, signal_delay_s=signal_delay_s(self.settings.timeout_min),
                                   setup=[f"export OMP_NUM_THREADS={self.threads_per_process()}"])
        return executor

    def launch(self, items: list[LaunchItem], on_submit: OnSubmit, on_end: OnEnd) -> None:
        executor, gpus = self._executor(), self.settings.gpus_per_node
        waiting, running, free = list(items), [], list(range(self.settings.parallel))
        try:
            while waiting or running:
                while waiting and free:
                    slot, item = free.pop(0), waiting.pop(0)
                    executor.update_parameters(gpus_per_node=gpus, tasks_per_node=self.settings.processes_per_node, visible_gpus=tuple(range(slot * gpus, (slot + 1) * gpus)))
                    job = executor.submit(item.job)
                    on_submit(item, str(job.job_id))
                    running.append((job, item, slot))
                time.sleep(self.poll_s)
                for entry in [entry for entry in running if entry[0].done()]:
                    running.remove(entry)
                    free.append(entry[2])
                    on_end(entry[1], job_error(entry[0]))
        except KeyboardInterrupt:
            for job, _, _ in running:
                job.cancel(check=False)
            raise


def job_error(job) -> str | None:
    """None when a submitit job returned; otherwise why not, in one line."""
    submitit = _submitit()
    try:
        job.result()
    except submitit.core.utils.UncompletedJobError:
        return "the job ended without finishing (killed, or requeued too often); launch the sweep again to resume it"
    except Exception as exc:  # FailedJobError carries the job's traceback: keep its last line
        lines = [line for line in str(exc).splitlines() if line.strip()]
        return lines[-1].strip() if lines else type(exc).__name__
    return None


class SlurmLauncher:
    """One job-array element per job, at most ``settings.parallel`` running at once; submits and
    returns (the jobs rebuild the shared files as they finish; ``--status`` follows them)."""

    name = "slurm"
    waits = False

    def __init__(self, settings: LauncherSpec, folder: Path, job_name: str = "lssat"):
        self.settings, self.folder, self.job_name = settings, Path(folder), job_name

    def check(self) -> None:
        if CONTROL_CHARACTER.search(str(self.folder)):
            raise LssatError(f"--out {str(self.folder.parent)!r}: contains a newline or control character, and the job script "
                             "names the folder on its #SBATCH lines (one line each); choose another folder")
        for command in ("sbatch", "srun"):
            if shutil.which(command) is None:
                raise LssatError(
                    f"--launcher slurm: no `{command}` on PATH (submitit submits with sbatch and starts the tasks with srun); "
                    "run on a Slurm login node, or use --launcher local, or --variant auto under another scheduler"
                )
        self.check_fits_a_node()
        _submitit()

    def check_fits_a_node(self) -> None:
        """A job that asks more CPUs or memory than any node of its partition has stays pending for
        ever (Slurm's reason: PartitionConfig): refused here, before anything is queued. Not
        checked where ``sinfo`` does not answer."""
        s = self.settings
        nodes = partition_nodes(s.partition)
        if not nodes:
            return
        where = f"partition {s.partition}" if s.partition else "the default partition"
        cpus, wanted = max(c for c, _ in nodes), s.cpus_per_task * s.processes_per_node
        if wanted > cpus:
            tasks = f" for each of {s.processes_per_node} tasks ({wanted} a node)" if s.processes_per_node > 1 else ""
            raise LssatError(f"launcher.cpus_per_task: {s.cpus_per_task} CPUs{tasks}, "
                             f"but the largest node of {where} has {cpus}; Slurm would keep the jobs pending for ever. "
                             f"Set launcher.cpus_per_task to at most {max(1, cpus // s.processes_per_node)} (--set launcher.cpus_per_task=N)")
        memory_mb = max(m for _, m in nodes)
        if s.mem_gb is not None and s.mem_gb * 1024 > memory_mb:
            raise LssatError(f"launcher.mem_gb: {s.mem_gb:g} GB, but the largest node of {where} has {memory_mb / 1024:.1f} GB; "
                             "Slurm would keep the jobs pending for ever. Set launcher.mem_gb lower, or leave it out")

    def parameters(self) -> dict[str, Any]:
        s = self.settings
        gpus = s.gpus_per_node or None  # no --gpus-per-node=0: some clusters refuse it
        return {
            "name": self.job_name, "nodes": s.nodes, "gpus_per_node": gpus, "tasks_per_node": s.processes_per_node,
            "cpus_per_task": s.cpus_per_task, "mem_gb": s.mem_gb, "timeout_min": s.timeout_min,
            "slurm_partition": s.partition, "slurm_account": s.account, "slurm_qos": s.qos, "slurm_constraint": s.constraint,
            "slurm_signal_delay_s": signal_delay_s(s.timeout_min), "slurm_array_parallelism": s.parallel,
            "slurm_additional_parameters": dict(s.sbatch) or None,
        }

    def launch(self, items: list[LaunchItem], on_submit: OnSubmit, on_end: OnEnd) -> None:
        submitit = _submitit()
        executor = submitit.AutoExecutor(folder=self.folder / "%j", cluster="slurm", slurm_max_num_timeout=MAX_REQUEUES)
        try:
            executor.update_parameters(**self.parameters())
        except (ValueError, NameError) as exc:
            raise LssatError(f"launcher.sbatch: {exc}") from None
        with executor.batch():
            jobs = [executor.submit(item.job) for item in items]
        for item, job in zip(items, jobs):
            on_submit(item, str(job.job_id))


def make_launcher(name: str, settings: LauncherSpec, folder: Path, job_name: str = "lssat"):
    if name == "inline":
        return InlineLauncher()
    if name == "local":
        return LocalLauncher(settings, folder)
    if name == "slurm":
        return SlurmLauncher(settings, folder, job_name)
    raise LssatError(f"--launcher {name}: choose one of {', '.join(NAMES)}")


def partition_nodes(partition: str | None) -> list[tuple[int, int]]:
    """(CPUs, memory in MB) of each node of ``partition`` (the default one when None), as
    ``sinfo`` lists them; empty where sinfo is not there, does not answer or knows no such node."""
    if shutil.which("sinfo") is None:
        return []
    try:
        output = subprocess.run(["sinfo", "--noheader", "--Node", "--format=%P|%c|%m"], capture_output=True, text=True, timeout=30, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    nodes = []
    for line in output.splitlines():
        name, _, rest = line.strip().partition("|")
        cpus, _, memory = rest.partition("|")
        if (name.rstrip("*") == partition) if partition else name.endswith("*"):  # sinfo stars the default partition
            try:
                nodes.append((int(cpus.rstrip("+")), int(memory.rstrip("+"))))
            except ValueError:
                continue
    return nodes


def slurm_states(job_ids: list[str]) -> dict[str, str]:
    """Slurm's state of each job id (``123_4`` for array elements), from ``sacct``; empty where
    sacct is not there or does not answer."""
    if not job_ids or shutil.which("sacct") is None:
        return {}
    command = ["sacct", "-o", "JobID,State", "--parsable2"]
    for array_id in sorted({job_id.split("_")[0] for job_id in job_ids}):
        command += ["-j", array_id]
    try:
        output = subprocess.run(command, capture_output=True, text=True, timeout=60, check=True).stdout
        from submitit.slurm.slurm import SlurmInfoWatcher

        info = SlurmInfoWatcher().read_info(output)
    except (OSError, subprocess.SubprocessError, ImportError):
        return {}
    return {job_id: info[job_id].get("State", "") for job_id in job_ids if job_id in info}
