"""``train.ema``: an exponential moving average of the weights (timm's ``ModelEmaV3``), updated
after every optimiser update and evaluated beside the live weights.

The average is a copy of the whole model (its parameters and buffers), made after ``accelerate``
has placed the model and before ``train.compile`` compiles it (a copy of a compiled module would
call the original's compiled code). Every process keeps its own copy: the processes' weights are
equal after each update, so their averages are too. The average is part of every checkpoint
(``ema.safetensors``, see :mod:`.checkpoints`) and its warm-up follows the run's update count, which
the checkpoint also holds: a resumed run continues it exactly.
"""

from __future__ import annotations

import torch

from ..spec.schema import TrainSpec

#: the prefix of the average's metrics: ``val_ema_auc`` beside ``val_auc``; ``best_metric: ema_auc``
EMA_PREFIX = "ema_"
#: the average's final weights in the run directory, beside ``model.safetensors``
EMA_MODEL_FILE = "model_ema.safetensors"


def make_ema(model: torch.nn.Module, train: TrainSpec):
    """The average of ``model`` (None without ``train.ema``)."""
    if train.ema is None:
        return None
    from timm.utils import ModelEmaV3

    # stochastic rounding only matters for bf16 weights; the trainer's weights stay float32
    return ModelEmaV3(model, decay=train.ema.decay, use_warmup=train.ema.warmup)


def update_ema(ema, model: torch.nn.Module, updates: int) -> None:
    """Fold the weights after update number ``updates`` (1 for the first) into the average; with
    ``warmup`` the decay grows from 0 with the count, so the first update copies the weights."""
    if ema is not None:
        ema.update(model, step=updates)


def ema_metrics(metrics: dict[str, float]) -> dict[str, float]:
    """The average's metrics under their ``ema_`` names (the sample count is the live one's)."""
    return {f"{EMA_PREFIX}{name}": value for name, value in metrics.items() if name != "count"}
