"""The accelerate set-up of a run: device, precision, trackers, and the data loaders."""

from __future__ import annotations

from pathlib import Path

import torch

from ..errors import LssatError
from ..spec import TrainSpec


def make_accelerator(train: TrainSpec, find_unused: bool, log_dir: Path | None = None):
    from accelerate import Accelerator
    from accelerate.utils import DistributedDataParallelKwargs

    cpu = train.cpu or not torch.cuda.is_available()
    if train.precision == "fp16" and cpu:
        raise LssatError("train.precision: fp16 needs a GPU; on the CPU use 'bf16' or 'no'")
    tracking = {}
    if train.tensorboard and log_dir is not None:
        try:
            import tensorboard  # noqa: F401
        except ImportError:
            raise LssatError("train.tensorboard: needs the tensorboard package (pip install tensorboard)") from None
        tracking = {"log_with": "tensorboard", "project_dir": str(log_dir)}
    # gradient accumulation is the training loop's own (see optim.EpochPlan), so that a window
    # never spills into the next epoch when train.max_batches cuts an epoch short
    return Accelerator(
        cpu=cpu,
        mixed_precision=train.precision,
        kwargs_handlers=[DistributedDataParallelKwargs(find_unused_parameters=find_unused)],
        **tracking,
    )


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


def make_loaders(train_set, val_set, train: TrainSpec, seed: int, device: torch.device):
    """(train loader, its sampler, val loader). Loaders draw their base seed from their own
    generator, not from the global RNG whose state a checkpoint restores: a resumed run then
    replays exactly the same random stream."""
    args = dict(num_workers=train.num_workers, pin_memory=device.type == "cuda", generator=torch.Generator().manual_seed(seed))
    sampler = EpochShuffle(len(train_set), seed)
    train_loader = torch.utils.data.DataLoader(train_set, batch_size=train.batch_size, sampler=sampler, **args)
    val_loader = torch.utils.data.DataLoader(val_set, batch_size=train.eval_batch_size or train.batch_size, shuffle=False, **args)
    return train_loader, sampler, val_loader
