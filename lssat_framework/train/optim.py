"""The optimiser, the learning-rate schedule and how many batches and updates an epoch holds.

The schedule is stepped once per optimiser update by the training loop itself, never by
accelerate's wrapper, which steps a prepared scheduler once per process on every update (it
assumes a schedule sized for one process): sized per process as here, that made the schedule run
N times too fast under N processes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from ..spec import TrainSpec


@dataclass(frozen=True)
class EpochPlan:
    """What one process does in one epoch."""

    #: batches this process trains on (its shard of the loader, cut by ``train.max_batches``)
    batches: int
    #: batches whose gradients are summed into one update
    grad_accum: int

    @property
    def updates(self) -> int:
        """Optimiser updates per epoch: the last, partial accumulation window counts as one."""
        return math.ceil(self.batches / self.grad_accum)

    def updates_after(self, batch_index: int) -> bool:
        """Whether the optimiser steps after batch ``batch_index`` (0-based) of the epoch: at the
        end of each window and at the epoch's last batch, so no window spills into the next epoch."""
        return (batch_index + 1) % self.grad_accum == 0 or batch_index + 1 == self.batches

    def window_size(self, batch_index: int) -> int:
        """Batches in the accumulation window that holds ``batch_index`` (the last one may be short)."""
        start = batch_index - batch_index % self.grad_accum
        return min(self.grad_accum, self.batches - start)


def plan_epoch(loader_batches: int, num_processes: int, train: TrainSpec) -> EpochPlan:
    """``loader_batches``: the length of this process's prepared (sharded) loader."""
    batches = loader_batches
    if train.max_batches is not None:  # max_batches counts batches of the whole run, all processes together
        batches = min(batches, math.ceil(train.max_batches / num_processes))
    return EpochPlan(batches=batches, grad_accum=train.grad_accum)


def lr_lambda(total_steps: int, warmup_steps: int, min_ratio: float):
    """Linear warm-up, then a half-cycle cosine down to ``min_ratio`` of the peak."""

    def factor(step: int) -> float:
        if step < warmup_steps:
            return (step + 1) / warmup_steps
        progress = (step - warmup_steps) / max(1, total_steps - warmup_steps)
        return min_ratio + (1 - min_ratio) * 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))

    return factor


def param_groups(model: torch.nn.Module, weight_decay: float):
    """Weight decay on weights only: not on norms, biases, tokens and position tables."""
    decay, no_decay = [], []
    for name, param in model.named_parameters():
        if not param.requires_grad:
            continue
        skip = param.ndim <= 1 or name.endswith(".bias") or any(t in name for t in ("pos_embed", "cls_token", "mask_token", "reg_token"))
        (no_decay if skip else decay).append(param)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


def peak_lr(train: TrainSpec, num_processes: int) -> float:
    """``train.lr``, or ``base_lr × effective batch / 256`` (the MAE recipe's scaling rule)."""
    return train.lr or train.base_lr * train.batch_size * train.grad_accum * num_processes / 256


def make_optimizer(model: torch.nn.Module, train: TrainSpec, lr: float) -> torch.optim.Optimizer:
    return torch.optim.AdamW(param_groups(model, train.weight_decay), lr=lr, betas=(0.9, 0.95))


def make_schedule(optimizer: torch.optim.Optimizer, train: TrainSpec, plan: EpochPlan, lr: float):
    total = plan.updates * train.epochs
    warmup = int(train.warmup_epochs * plan.updates)
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lr_lambda(total, warmup, train.min_lr / lr))
