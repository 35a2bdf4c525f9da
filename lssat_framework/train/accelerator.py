"""How a run uses this machine: accelerate (device, precision, trackers), the model's memory and
speed switches (activation checkpointing, ``torch.compile``), and the data loaders."""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path

import torch

from ..errors import ComponentError, LssatError
from ..spec.schema import TrainSpec
from .trackers import accelerator_arguments


def make_accelerator(train: TrainSpec, find_unused: bool, log_dir: Path | None = None):
    from accelerate import Accelerator
    from accelerate.utils import DistributedDataParallelKwargs

    cpu = train.cpu or not torch.cuda.is_available()
    if train.precision == "fp16" and cpu:
        raise LssatError("train.precision: fp16 needs a GPU; on the CPU use 'bf16' or 'no'")
    if cpu and not train.cpu and _first_time("cpu fallback"):  # a spec written for a GPU: say where it runs
        print(f"lssat: no GPU found (torch {torch.__version__} sees no CUDA device): training on the CPU"
              + (f" in {train.precision}" if train.precision != "no" else ""), file=sys.stderr)
    tracking = accelerator_arguments(train, log_dir)  # train.trackers, each checked installed
    # gradient accumulation is the training loop's own (see optim.EpochPlan), so that a window
    # never spills into the next epoch when train.max_batches cuts an epoch short
    accelerator = Accelerator(
        cpu=cpu,
        mixed_precision=train.precision,
        kwargs_handlers=[DistributedDataParallelKwargs(find_unused_parameters=find_unused)],
        **tracking,
    )
    apply_threads(train)  # again: accelerate's multi-CPU set-up sets a count of its own where OMP_NUM_THREADS is unset
    return accelerator


def leave_process_group() -> None:
    """Leave the launch's process group (torchrun's, a multi-task job's) once this process has
    done all its training: when an ``lssat`` command ends, or a sweep's job. A run does not: the
    group is the launch's, and ``lssat run`` on a sweep trains every variant in the same processes
    (accelerate sets the group up once)."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def usable_cores() -> int:
    """The cores this process may run on: its CPU affinity, which Slurm, taskset and containers
    narrow (``os.cpu_count()`` counts the whole machine)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def default_threads() -> int:
    """The threads of one process when ``train.threads`` is not set: ``OMP_NUM_THREADS`` where it
    is set (the local launcher sets each job's share; torchrun and ``accelerate launch`` set theirs),
    else the usable cores divided among this machine's processes of the launch (LOCAL_WORLD_SIZE),
    at most Slurm's ``--cpus-per-task``."""
    omp = os.environ.get("OMP_NUM_THREADS", "")
    if omp.isdigit() and int(omp) > 0:
        return int(omp)
    share = usable_cores() // max(1, int(os.environ.get("LOCAL_WORLD_SIZE") or 1))
    slurm = os.environ.get("SLURM_CPUS_PER_TASK", "")
    return max(1, min(share, int(slurm)) if slurm.isdigit() else share)


def apply_threads(train: TrainSpec) -> int:
    """Set torch's intra-op threads (and its inter-op threads, which can be set only before the
    first parallel work of a process) to ``train.threads`` or :func:`default_threads`; the count
    in use. Results change with it in the last digits: summation order follows the split."""
    threads = train.threads or default_threads()
    cores = usable_cores()
    if threads > cores and _first_time(f"threads {threads}"):
        source = "train.threads" if train.threads else "OMP_NUM_THREADS"
        print(f"lssat: warning: {source}: {threads} threads on the {cores} core(s) this process may use take turns and run slower; "
              f"set {source} to {cores} or less", file=sys.stderr)
    torch.set_num_threads(threads)
    with contextlib.suppress(RuntimeError):  # already set, or parallel work has started
        torch.set_num_interop_threads(threads)
    return torch.get_num_threads()


_SAID: set[str] = set()


def _first_time(what: str) -> bool:
    """Whether ``what`` has not been said yet in this process (some notes are worth one line)."""
    if what in _SAID:
        return False
    _SAID.add(what)
    return True


class EpochShuffle(torch.utils.data.Sampler):
    """A shuffle that depends only on (seed, epoch): resuming mid-epoch replays the same order."""

    def __init__(self, length: int, seed: int):
        self.length, self.seed, self.epoch = length, seed, 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return self.length

    def __iter__(self):
        generator = torch.Generator().manual_seed(self.seed * 100_003 + self.epoch)
        return iter(torch.randperm(self.length, generator=generator).tolist())


def make_loaders(train_set, val_set, train: TrainSpec, seed: int, device: torch.device, num_processes: int = 1):
    """(train loader, its sampler, val loader). Loaders draw their base seed from their own
    generator, not from the global RNG whose state a checkpoint restores: a resumed run then
    replays exactly the same random stream.

    Workers stay alive between epochs (no restart cost per epoch) and prepare ``prefetch_factor``
    batches ahead; batches are pinned for the copy to a GPU. Training drops the last, partial
    batch (every step the same size, as timm does) when the split holds more than one batch per
    process (accelerate then also drops the last group of batches that not every process gets)."""
    args = dict(num_workers=train.num_workers, pin_memory=device.type == "cuda", generator=torch.Generator().manual_seed(seed))
    if train.num_workers > 0:
        args.update(persistent_workers=True, prefetch_factor=train.prefetch_factor)
    sampler = EpochShuffle(len(train_set), seed)
    drop_last = len(train_set) > train.batch_size * num_processes
    train_loader = torch.utils.data.DataLoader(train_set, batch_size=train.batch_size, sampler=sampler, drop_last=drop_last, **args)
    val_loader = torch.utils.data.DataLoader(val_set, batch_size=train.eval_batch_size or train.batch_size, shuffle=False, **args)
    return train_loader, sampler, val_loader


def set_grad_checkpointing(model: torch.nn.Module, backbone_name: str) -> None:
    """``train.grad_checkpointing``: the backbone (both passes go through it) and the objective's
    decoder recompute their activations in the backward pass."""
    switch = getattr(model.backbone, "set_grad_checkpointing", None)
    if switch is None:
        raise ComponentError(f"train.grad_checkpointing: backbone '{backbone_name}' has no set_grad_checkpointing(); set train.grad_checkpointing: false")
    switch(True)
    model.objective.set_grad_checkpointing(True)


def compile_model(model: torch.nn.Module, train: TrainSpec) -> None:
    """``train.compile``: ``torch.compile`` of the module's call, in place, so that its parameter
    names, ``state_dict`` and checkpoints stay those of the plain model. The graphs are built on the
    first call (inside :func:`compiler_errors`).

    A backbone's masked path may read a number from a tensor (how many patches stay visible);
    dynamo then traces it instead of ending the graph there and waiting for the device."""
    torch._dynamo.config.capture_scalar_outputs = True
    model.compile(mode=train.compile_mode)


@contextlib.contextmanager
def compiler_errors():
    """A model compiled with ``train.compile`` that cannot be compiled on this machine is one clear error."""
    try:
        yield
    except torch._dynamo.exc.BackendCompilerFailed as error:
        raise ComponentError.cannot_compile("the model (train.compile: true)", "set train.compile: false", error) from error


def peak_memory_mb(device: torch.device) -> float:
    """The run's peak memory so far: allocated on the GPU, the resident set of the process on the CPU."""
    import resource

    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB
