"""The experiment spec's schema: the pydantic models of stage 1 (the outer spec, ``extra="forbid"``).

Each field's ``#:`` comment is its documentation in ``docs/spec-reference.md``
(:mod:`.reference` reads them).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from ..files.safe import check_name
from .launcher import LauncherSpec


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ComponentSpec(_Strict):
    """A component: the registered ``name`` (or ``plugin/name``) and its ``params``."""

    #: the registered name, or ``plugin/name`` when two plugins register it
    name: str
    #: the component's own params, validated against its plugin's model
    params: dict[str, Any] = Field(default_factory=dict)


class EvaluateSpec(ComponentSpec):
    """A test set of ``evaluate:``: a dataset, named as ``data`` names one, that the trained model
    never saw. The run's data params that the dataset also takes (``image_size``, ...) are carried
    over; ``params`` gives the rest (at least where its data is: ``root``)."""

    #: the test set's row in the cross-dataset table and its leaderboard columns (``auc@<label>``); default: the dataset's name
    label: str | None = Field(None, min_length=1)


class LossSpec(_Strict):
    """Weights of the joint loss ``task·L_task + ssl·L_ssl`` (SSAT reference: 0.1 / 0.9)."""

    #: weight of the task loss
    task: float = Field(0.1, ge=0)
    #: weight of the SSL objective's loss (its terms summed)
    ssl: float = Field(0.9, ge=0)


class AugmentSpec(_Strict):
    """Augmentation of the training batch, applied before the descriptor targets are computed."""

    #: random horizontal flip
    flip: bool = True
    #: scale range of a random resized crop, e.g. [0.8, 1.0]; null switches it off
    resized_crop: tuple[float, float] | None = None
    #: RandAugment [number of operations, magnitude 0–30], e.g. [2, 9]; null switches it off
    randaugment: tuple[int, int] | None = None


def task_metric_name(name: str) -> str:
    """A metric as :meth:`Task.metrics` names it: ``val_auc`` (its name in ``metrics.jsonl``) is ``auc``."""
    return name.removeprefix("val_")


class EmaSpec(_Strict):
    """An exponential moving average of the weights (timm's ``ModelEmaV3``), evaluated beside them."""

    #: how much of the average each optimiser update keeps
    decay: float = Field(0.9998, gt=0, lt=1)
    #: let the decay grow from 0 with the update count (1 - (1 + n)^(-2/3), capped at ``decay``), so the first weights fade fast
    warmup: bool = True


#: accelerate's experiment trackers, by the names ``Accelerator(log_with=...)`` takes
TRACKERS = Literal["tensorboard", "wandb", "mlflow", "comet_ml", "aim", "clearml", "dvclive", "swanlab", "trackio"]


class TrainSpec(_Strict):
    """Optimisation and run settings."""

    epochs: int = Field(ge=1)
    #: per process
    batch_size: int = Field(ge=1)
    #: absolute learning rate; when null, ``base_lr × effective_batch / 256``
    lr: float | None = Field(None, gt=0)
    base_lr: float = Field(1e-3, gt=0)
    #: the end of the half-cycle cosine schedule
    min_lr: float = Field(0.0, ge=0)
    #: timm optimiser by name (``timm.optim.list_optimizers()``): adamw, lamb, lion, sgd, ...
    optimizer: str = "adamw"
    #: the optimiser's betas, for those that have them (adamw, lamb, lion, ...)
    betas: tuple[float, float] = (0.9, 0.95)
    #: weight decay, not applied to norms, biases, tokens and position tables
    weight_decay: float = Field(0.05, ge=0)
    #: layer-wise lr decay (MAE/BEiT fine-tuning): the backbone's layers, as timm groups them, get
    #: lr × decay^(layers above them); the head and the objective's decoder the full lr. null: off
    layer_decay: float | None = Field(None, gt=0, le=1)
    #: an average of the weights, reported beside them as ``val_ema_<metric>``; null: none
    ema: EmaSpec | None = None
    #: recompute the backbone's activations in the backward pass, in both passes: less memory, more compute
    grad_checkpointing: bool = False
    #: ``torch.compile`` the model for training and evaluation (needs a C++ compiler on the CPU, Triton on a GPU)
    compile: bool = False
    #: ``torch.compile``'s mode
    compile_mode: Literal["default", "reduce-overhead", "max-autotune", "max-autotune-no-cudagraphs"] = "default"
    #: linear warm-up, in epochs (fractions allowed)
    warmup_epochs: float = Field(0.0, ge=0)
    #: mixed precision; fp16 needs a GPU
    precision: Literal["no", "bf16", "fp16"] = "no"
    #: gradient accumulation steps
    grad_accum: int = Field(1, ge=1)
    #: clip the gradient norm to this value; null: no clipping
    clip_grad: float | None = Field(None, gt=0)
    #: default: batch_size
    eval_batch_size: int | None = Field(None, ge=1)
    #: data-loading worker processes
    num_workers: int = Field(0, ge=0)
    #: batches each worker prepares ahead (with num_workers > 0); null: torch's default, 2
    prefetch_factor: int | None = Field(None, ge=1)
    augment: AugmentSpec = Field(default_factory=AugmentSpec)
    #: metric that picks the best checkpoint; default: the task's headline metric. Named as the
    #: task reports it (``auc``, ``auc@Male=1``) or as ``metrics.jsonl`` shows it (``val_auc``, the
    #: prefix is dropped); with ``ema``, the average's as ``ema_auc`` (``checkpoints/best`` then
    #: holds the average); checked against the task's metrics at validation
    best_metric: str | None = None
    #: stop each epoch after this many batches (smoke tests); null = the whole split
    max_batches: int | None = Field(None, ge=1)
    #: also save the ``last`` checkpoint every this many optimiser steps (null: at epoch ends only)
    checkpoint_every: int | None = Field(None, ge=1)
    #: force the CPU even when a GPU exists
    cpu: bool = False
    #: CPU threads of each process (torch's intra-op and inter-op threads). null: OMP_NUM_THREADS where
    #: set, else the cores this process may use (its CPU affinity: Slurm's and containers' limits
    #: hold) shared among this machine's processes of the launch (LOCAL_WORLD_SIZE). Results change
    #: with the count, first in their last digits; each epoch of ``metrics.jsonl`` records it
    threads: int | None = Field(None, ge=1)
    #: write a reconstruction grid PNG at each epoch
    recon_grid: bool = True
    #: experiment trackers (accelerate's) that get every loss per step, every epoch's record of
    #: ``metrics.jsonl``, the resolved spec as the run's config and the reconstruction grids; each
    #: needs its package (extras: ``pip install 'lssat-framework[tensorboard,mlflow,wandb]'``)
    trackers: list[TRACKERS] = Field(default_factory=list)
    #: the old spelling of ``trackers: [tensorboard]``, still honoured
    tensorboard: bool = False

    @field_validator("best_metric")
    @classmethod
    def _as_the_task_names_it(cls, name: str | None) -> str | None:
        return task_metric_name(name) if name else name

SWEEP_AXIS_FORMS = (
    "a sweep axis is a list of values (train.lr: [1.0e-3, 3.0e-4]) or a mapping of named variants, "
    "each a mapping of dotted keys to values (arch: {small: {backbone.params.depth: 6}, large: {backbone.params.depth: 12}})"
)


def _sweep_axis_problem(values: Any) -> str | None:
    """What is wrong with one axis of ``sweep:``, in words (pydantic would list the alternatives
    of its union type instead)."""
    if isinstance(values, list):
        return None if values else f"the axis has no values; {SWEEP_AXIS_FORMS}"
    if not isinstance(values, dict):
        return SWEEP_AXIS_FORMS  # the message adds what was given
    if not values:
        return f"the axis has no variants; {SWEEP_AXIS_FORMS}"
    for name, variant in values.items():
        if not isinstance(variant, dict) or not all(isinstance(key, str) for key in variant):
            return f"variant '{name}' must be a mapping of dotted keys to values, e.g. {name}: {{train.lr: 1.0e-3}}; got {variant!r}"
    return None


NAME_RULE = "the name is a folder name (runs/<name>): letters, digits and '-', '_' or '.', not starting with '.' (no '/', no spaces)"


class Spec(_Strict):
    """The whole experiment."""

    #: the run's name (and default directory ``runs/<name>``): letters, digits and ``-_.``, not starting with a dot
    name: str
    #: seeds model initialisation, shuffling, masking and augmentation
    seed: int = 0
    #: the dataset
    data: ComponentSpec
    #: the primary task
    task: ComponentSpec
    #: the shared backbone
    backbone: ComponentSpec
    #: named modalities: ``{modality_name: {name: descriptor, params: {...}}}``
    descriptors: dict[str, ComponentSpec] = Field(default_factory=dict)
    #: the auxiliary self-supervised objective (``none`` for the supervised baseline)
    ssl: ComponentSpec
    #: the modality the task head sees
    classify: str
    #: weights of the joint loss
    loss: LossSpec = Field(default_factory=LossSpec)
    #: optimisation and run settings
    train: TrainSpec
    #: test sets the trained model (best weights, else last) is evaluated on when the run ends:
    #: ``cross_dataset.csv/.md`` and ROC curves in the run directory, each test set's headline in
    #: ``summary.json`` under ``cross``, and in a sweep's leaderboard
    evaluate: list[EvaluateSpec] = Field(default_factory=list)
    #: the axes of a grid of runs: a dotted key with a list of values, or a named group of
    #: variants, each a mapping of dotted keys to values; the run expands their cartesian product
    sweep: dict[str, list[Any] | dict[str, dict[str, Any]]] | None = None
    #: where ``lssat sweep`` runs the variants (Slurm and local executor settings)
    launcher: LauncherSpec = Field(default_factory=LauncherSpec)

    @field_validator("name")
    @classmethod
    def _a_folder_name(cls, name: str) -> str:
        # '=' and '+' as in the names of a sweep's variants (``study__backbone=vit__lr=1e-3``)
        if check_name(name.replace("=", "-").replace("+", "-")):
            raise PydanticCustomError("name", NAME_RULE)
        return name

    @field_validator("sweep", mode="wrap")
    @classmethod
    def _sweep_axes_in_words(cls, value: Any, handler):
        if isinstance(value, dict):
            errors = [
                InitErrorDetails(type=PydanticCustomError("sweep_axis", problem), loc=(axis,), input=values)
                for axis, values in value.items()
                if (problem := _sweep_axis_problem(values))
            ]
            if errors:
                raise ValidationError.from_exception_data("sweep", errors)
        return handler(value)

