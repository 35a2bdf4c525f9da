"""The optimiser, the learning-rate schedule and how many batches and updates an epoch holds.

The optimiser is timm's (``timm.optim.create_optimizer_v2``: every timm optimiser by name), with
our no-decay rule and, with ``train.layer_decay``, timm's layer-wise lr decay over the backbone's
layers (``param_groups_layer_decay``); the head and the objective's decoder sit at the top scale.

The schedule is stepped once per optimiser update by the training loop itself, never by
accelerate's wrapper, which steps a prepared scheduler once per process on every update (it
assumes a schedule sized for one process): sized per process as here, that made the schedule run
N times too fast under N processes.
"""

from __future__ import annotations

import difflib
import fnmatch
import math
from dataclasses import dataclass

import torch

from ..errors import ComponentError, SpecError
from ..model.layer_groups import prefix_group_matcher
from ..spec.schema import TrainSpec

#: no weight decay on these (fnmatch patterns over parameter names), nor on any 1-D tensor (norms)
NO_WEIGHT_DECAY = ("*.bias", "*pos_embed*", "*cls_token*", "*mask_token*", "*reg_token*")


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


class _BackboneLayers:
    """The whole model as timm's ``param_groups_layer_decay`` reads a timm model: its parameters,
    and a ``group_matcher``: the backbone's own, over the model's names; everything else (the task
    head, the objective's decoder) matches nothing and so sits in the top layer, as timm's
    classifier does (:mod:`lssat_framework.model.layer_groups`)."""

    def __init__(self, model: torch.nn.Module, backbone_name: str):
        matcher = getattr(model.backbone, "group_matcher", None)
        if matcher is None:
            raise ComponentError(
                f"train.layer_decay: backbone '{backbone_name}' does not say how its parameters form layers "
                "(it has no group_matcher()); remove train.layer_decay or use a backbone that has one"
            )
        self.model, self.backbone_matcher = model, matcher

    def named_parameters(self):
        return self.model.named_parameters()

    def group_matcher(self, coarse: bool = False):
        return prefix_group_matcher(self.backbone_matcher(coarse=coarse), "backbone.")


def param_groups(model: torch.nn.Module, train: TrainSpec, backbone_name: str = "backbone") -> list[dict]:
    """Weight decay on weights only (not on norms, biases, tokens and position tables); with
    ``train.layer_decay``, one group per (layer, decay or not), each with its ``lr_scale``."""
    from timm.optim import param_groups_layer_decay, param_groups_weight_decay

    # exact names: timm releases differ in whether these lists hold patterns or names
    no_decay = [name for name, _ in model.named_parameters() if any(fnmatch.fnmatchcase(name, rule) for rule in NO_WEIGHT_DECAY)]
    if train.layer_decay is None:
        return param_groups_weight_decay(model, train.weight_decay, no_weight_decay_list=no_decay)
    layered = _BackboneLayers(model, backbone_name)
    return param_groups_layer_decay(layered, train.weight_decay, no_weight_decay_list=no_decay, layer_decay=train.layer_decay)


def peak_lr(train: TrainSpec, num_processes: int) -> float:
    """``train.lr``, or ``base_lr × effective batch / 256`` (the MAE recipe's scaling rule)."""
    return train.lr or train.base_lr * train.batch_size * train.grad_accum * num_processes / 256


def check_optimizer_name(name: str) -> None:
    from timm.optim import list_optimizers

    known = list_optimizers()
    if name.lower().removeprefix("lookahead_") not in known:
        close = difflib.get_close_matches(name.lower(), known, n=3)
        hint = f"did you mean {', '.join(close)}? " if close else ""
        raise SpecError([("train.optimizer", f"'{name}' is not a timm optimiser; {hint}timm.optim.list_optimizers() lists them all")])


def make_optimizer(model: torch.nn.Module, train: TrainSpec, lr: float, backbone_name: str = "backbone") -> torch.optim.Optimizer:
    """``train.optimizer`` from timm, at peak ``lr``. Each group's own lr is the peak times its
    layer-decay scale: the schedule multiplies each group's initial lr by the same factor."""
    from timm.optim import create_optimizer_v2

    check_optimizer_name(train.optimizer)
    optimizer = create_optimizer_v2(
        model, opt=train.optimizer, lr=lr, weight_decay=train.weight_decay, betas=tuple(train.betas),
        param_group_fn=lambda module: param_groups(module, train, backbone_name),
    )
    for group in optimizer.param_groups:
        group["lr"] = lr * group.get("lr_scale", 1.0)
    return optimizer


def describe_parameters(model: torch.nn.Module, optimizer: torch.optim.Optimizer) -> list[dict]:
    """Every trainable parameter's name, shape, lr scale and weight decay, as the optimiser holds
    them (a run's ``optimizer.json``: what to check first when a fine-tune misbehaves)."""
    groups = {id(param): group for group in optimizer.param_groups for param in group["params"]}
    return [
        {"name": name, "shape": list(param.shape), "lr_scale": groups[id(param)].get("lr_scale", 1.0), "weight_decay": groups[id(param)]["weight_decay"]}
        for name, param in model.named_parameters() if id(param) in groups
    ]


def make_schedule(optimizer: torch.optim.Optimizer, train: TrainSpec, plan: EpochPlan, lr: float):
    """Our own LambdaLR, not timm's ``CosineLRScheduler``: timm's warm-up starts at
    ``warmup_lr_init`` and reaches the peak at update ``warmup_t``, while ours starts at
    peak/warmup ((step+1)/warmup) and reaches the peak one update earlier, holding it for one more
    update before the cosine; no choice of timm's arguments gives both that start and the cosine
    from update ``warmup`` (warmup_t = warmup - 1 matches the ramp but moves the cosine one update
    early). LambdaLR scales each group's own initial lr, so layer-decay scales carry through."""
    total = plan.updates * train.epochs
    warmup = int(train.warmup_epochs * plan.updates)
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lr_lambda(total, warmup, train.min_lr / lr))


def top_lr(scheduler) -> float:
    """The scheduled lr at scale 1 (the head's), the lr a run records."""
    return max(scheduler.get_last_lr())
