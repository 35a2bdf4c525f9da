"""The experiment spec: YAML in, a validated :class:`ResolvedSpec` out.

Validation runs in two stages and reports every problem at once, each with its dotted path and,
where the YAML file is known, its line:

1. the outer schema (:class:`Spec`, ``extra="forbid"``);
2. each component section (``data``, ``task``, ``backbone``, ``ssl``, ``descriptors.*``): its
   ``name`` is resolved in the registry and its ``params`` validated against the params model the
   plugin registered; then the modalities the SSL objective and the task head read must exist;
   then each test set of ``evaluate:``, as the ``data`` section (``evaluate[1].params.root``).

The YAML itself is read safely: no tags that build Python objects, no duplicate keys, no recursive
aliases, and aliases may add at most :data:`MAX_ALIAS_VALUES` values. What only building the
parts can tell (image size against the patch grid, channels, ...) is checked by
:mod:`lssat_framework.compat`.
"""

from __future__ import annotations

import copy
import re
import difflib
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from .errors import AmbiguousComponentError, LssatError, SpecError, UnknownComponentError
from .declared import objective_modalities
from .plugins import Component, PluginManager, get_plugin_manager
from .safe_files import check_name


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
    #: write a reconstruction grid PNG at each epoch
    recon_grid: bool = True
    #: also log every epoch's record to TensorBoard (needs the tensorboard package)
    tensorboard: bool = False

    @field_validator("best_metric")
    @classmethod
    def _as_the_task_names_it(cls, name: str | None) -> str | None:
        return task_metric_name(name) if name else name


#: what may not reach the job script: a newline there starts a shell command of its own
CONTROL_CHARACTER = re.compile(r"[\x00-\x1f\x7f-\x9f]")
ONE_LINE_RULE = "contains a newline or control character; launcher settings are written into the job script, one line each: write it on one line"
SBATCH_OPTION = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")
#: options the launcher sets itself: the job's logs and working folder stay in the sweep folder
SBATCH_OWN = {"output", "error", "input", "chdir", "job-name", "job_name", "open-mode", "open_mode", "wrap", "array"}


def _sbatch_problem(key: str, value: Any) -> str | None:
    """What is wrong with one ``launcher.sbatch`` entry (None: nothing)."""
    if not SBATCH_OPTION.fullmatch(key):
        return f"{key!r} is not an sbatch option name: letters, digits, '-' and '_' only (e.g. mail-type)"
    if key.lower() in SBATCH_OWN:
        return f"'{key}' is set by the launcher itself (the job's logs, working folder, name and array stay those of the sweep folder); remove it"
    if not isinstance(value, (str, int, float, bool)):
        return "an sbatch option's value is a string, a number or true (a flag without a value)"
    return ONE_LINE_RULE if isinstance(value, str) and CONTROL_CHARACTER.search(value) else None


class LauncherSpec(_Strict):
    """Where ``lssat sweep`` runs the variants: the executor settings of ``--launcher local|slurm``.

    Ignored by a single run and by ``--launcher inline``.
    """

    #: variants running at once (local: processes on this machine; slurm: the job array's ``%N``)
    parallel: int = Field(1, ge=1)
    #: Slurm partition (``--partition``)
    partition: str | None = None
    #: Slurm account (``--account``)
    account: str | None = None
    #: Slurm quality of service (``--qos``)
    qos: str | None = None
    #: Slurm node feature constraint (``--constraint``)
    constraint: str | None = None
    #: nodes per variant
    nodes: int = Field(1, ge=1)
    #: GPUs per node; one process per GPU (0: one CPU process)
    gpus_per_node: int = Field(0, ge=0)
    #: CPU cores per process
    cpus_per_task: int = Field(4, ge=1)
    #: memory per node in GB; null: the cluster's default
    mem_gb: float | None = Field(None, gt=0)
    #: time limit per job in minutes; a variant that reaches it is checkpointed and requeued
    timeout_min: int = Field(60, ge=1)
    #: any other sbatch option, e.g. {mail-type: END}; keys are option names (letters, digits, '-', '_'), values one-line strings, numbers or booleans
    sbatch: dict[str, Any] = Field(default_factory=dict)

    @field_validator("partition", "account", "qos", "constraint")
    @classmethod
    def _one_line(cls, value: str | None) -> str | None:
        if value is not None and CONTROL_CHARACTER.search(value):
            raise PydanticCustomError("control_character", ONE_LINE_RULE)
        return value

    @field_validator("sbatch")
    @classmethod
    def _sbatch_options(cls, options: dict[str, Any]) -> dict[str, Any]:
        errors = [InitErrorDetails(type=PydanticCustomError("sbatch_option", problem), loc=(key if key.isprintable() else repr(key),),
                                    input=value if SBATCH_OPTION.fullmatch(key) else key)
                  for key, value in options.items() if (problem := _sbatch_problem(key, value))]
        if errors:
            raise ValidationError.from_exception_data("sbatch", errors)
        return options


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


#: modality names are keys of dotted paths (``descriptors.ldp.params.k`` in --set and sweeps)
MODALITY_NAME = re.compile(r"[A-Za-z0-9_-]+")
MODALITY_NAME_RULE = (
    "a modality name may hold letters, digits, '_' and '-' only (a dot would split its key path, "
    "e.g. in --set descriptors.<name>.params.k=5)"
)

COMPONENT_SECTIONS: dict[str, str] = {"data": "dataset", "task": "task", "backbone": "backbone", "ssl": "ssl"}


@dataclass
class ResolvedComponent:
    component: Component
    params: dict[str, Any]

    def build(self) -> Any:
        return self.component.resolve()(**self.params)


@dataclass
class ResolvedSpec:
    """A spec that passed both stages: the outer model and every component, resolved."""

    spec: Spec
    raw: dict[str, Any]
    components: dict[str, ResolvedComponent]  # keyed by section: data, task, backbone, ssl
    modalities: dict[str, ResolvedComponent]  # every modality the run reads, by modality name
    source: str | None = None


# ---------------------------------------------------------------------- loading
#: how many values the aliases (``*name``) of one spec may add when expanded; a spec is a small
#: document, and a few nested aliases can otherwise stand for billions of values
MAX_ALIAS_VALUES = 10_000


class RefusedYAML(yaml.MarkedYAMLError):
    """Well-formed YAML that a spec may not use: a duplicate key, a recursive or exploding alias."""


class SpecLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that also reads ``1e-4`` as a float (YAML 1.1 wants ``1.0e-4``),
    refuses duplicate keys (YAML keeps the last silently) and bounds what aliases expand to."""

    def __init__(self, stream):
        super().__init__(stream)
        self._open_anchors: dict[str, yaml.Mark] = {}  # anchors whose value is being read
        self._alias_uses: list[tuple[yaml.Node, yaml.AliasEvent]] = []

    def compose_node(self, parent, index):
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            if event.anchor in self._open_anchors:
                anchor_line = self._open_anchors[event.anchor].line + 1
                raise RefusedYAML(
                    None, None,
                    f"alias *{event.anchor} is used inside the value it names (anchor &{event.anchor} at line {anchor_line}): "
                    "recursive aliases are refused",
                    event.start_mark,
                )
            node = super().compose_node(parent, index)
            self._alias_uses.append((node, event))
            return node
        if event.anchor is not None:
            self._open_anchors[event.anchor] = event.start_mark
        try:
            return super().compose_node(parent, index)
        finally:
            self._open_anchors.pop(event.anchor, None)

    def compose_document(self):
        node = super().compose_document()
        self._bound_alias_expansion(node)
        return node

    def _bound_alias_expansion(self, root: yaml.Node) -> None:
        sizes: dict[int, int] = {}  # values under a node once its aliases are expanded, by id

        def expanded(node: yaml.Node) -> int:
            if id(node) not in sizes:
                children = [n for pair in node.value for n in pair] if isinstance(node, yaml.MappingNode) else node.value
                sizes[id(node)] = 1 + (sum(expanded(child) for child in children) if isinstance(children, list) else 0)
            return sizes[id(node)]

        added = expanded(root) - len(sizes)  # sizes holds each written value once
        if added > MAX_ALIAS_VALUES:
            node, alias = max(self._alias_uses, key=lambda use: sizes[id(use[0])])
            raise RefusedYAML(
                None, None,
                f"alias *{alias.anchor} stands for {sizes[id(node)]:,} values and the spec's aliases add {added:,} in all; "
                f"aliases may add at most {MAX_ALIAS_VALUES:,} values to a spec (write the repeated part out, or alias less)",
                alias.start_mark,
            )

    def construct_mapping(self, node, deep=False):
        if isinstance(node, yaml.MappingNode):
            self._refuse_duplicate_keys(node)
        return super().construct_mapping(node, deep=deep)

    def _refuse_duplicate_keys(self, node: yaml.MappingNode) -> None:
        seen: dict[Any, yaml.Mark] = {}
        for key_node, _ in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == "tag:yaml.org,2002:merge":
                continue  # ``<<: *base`` may be overridden by the keys beside it
            key = self.construct_object(key_node)
            if key in seen:
                first = seen[key]
                where = f"line {first.line + 1}" + (f", column {first.column + 1}" if first.line == key_node.start_mark.line else "")
                raise RefusedYAML(
                    None, None,
                    f"duplicate key '{key}' (also at {where}): a key may appear once per mapping; merge the two into one",
                    key_node.start_mark,
                )
            seen[key] = key_node.start_mark


SpecLoader.yaml_implicit_resolvers = {key: list(value) for key, value in yaml.SafeLoader.yaml_implicit_resolvers.items()}
SpecLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789"),
)


def parse_yaml(text: str) -> Any:
    return yaml.load(text, Loader=SpecLoader)  # a SafeLoader: no Python objects


def _parse_with_lines(text: str) -> tuple[Any, dict[str, int]]:
    """The document and a path -> line map, from one pass of the loader."""
    loader = SpecLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, {}
        return loader.construct_document(node), _line_map(node)
    finally:
        loader.dispose()


def load_yaml(path: str | Path) -> tuple[dict[str, Any], dict[str, int]]:
    """Read a spec file with a safe YAML loader; return the mapping and a path -> line map."""
    path = Path(path)
    if not path.is_file():
        raise LssatError(f"spec file not found: {path}")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise LssatError(f"{path}: not UTF-8 text (byte {exc.object[exc.start]:#04x} at offset {exc.start}); a spec is plain YAML saved as UTF-8") from None
    try:
        data, lines = _parse_with_lines(text)
    except RecursionError:
        raise LssatError(f"{path}: the spec nests too deeply to read") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        problem = getattr(exc, "problem", None) or str(exc)
        if "python/" in str(exc):
            problem += " (specs are plain YAML: tags that build Python objects are refused)"
        raise LssatError(f"{where}: {'' if isinstance(exc, RefusedYAML) else 'invalid YAML: '}{problem}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise LssatError(f"{path}: the spec must be a mapping of sections, got {type(data).__name__}")
    return data, lines


def _line_map(node, prefix: str = "", out: dict[str, int] | None = None) -> dict[str, int]:
    out = {} if out is None else out
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            path = f"{prefix}.{key.value}" if prefix else str(key.value)
            out[path] = key.start_mark.line + 1
            _line_map(value, path, out)
    elif isinstance(node, yaml.SequenceNode):
        for i, value in enumerate(node.value):
            path = f"{prefix}.{i}"
            out[path] = value.start_mark.line + 1
            _line_map(value, path, out)
    return out


def set_dotted(data: dict[str, Any], dotted: str, value: Any) -> None:
    """Set ``data[a][b][c] = value`` for ``dotted == "a.b.c"``, creating mappings on the way."""
    keys = dotted.split(".")
    if not all(keys):
        raise LssatError(f"invalid key path '{dotted}': empty part")
    node = data
    for i, key in enumerate(keys[:-1]):
        child = node.get(key)
        if child is None:
            child = node[key] = {}
        if not isinstance(child, dict):
            raise LssatError(f"cannot set '{dotted}': '{'.'.join(keys[: i + 1])}' is not a mapping")
        node = child
    node[keys[-1]] = value


def apply_overrides(data: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """Apply ``key.path=value`` strings; each value is parsed as YAML (``4``, ``true``, ``[a, b]``)."""
    data = copy.deepcopy(data)
    for item in overrides:
        key, sep, text = item.partition("=")
        if not sep or not key.strip():
            raise LssatError(f"--set expects key.path=value, got '{item}'")
        try:
            value = parse_yaml(text) if text.strip() else ""
        except yaml.YAMLError as exc:
            reason = getattr(exc, "problem", None)
            raise LssatError(f"--set {key}: cannot parse value '{text}' as YAML" + (f": {reason}" if reason else "")) from None
        set_dotted(data, key.strip(), value)
    return data


def load_spec(path: str | Path, overrides: list[str] | None = None, manager: PluginManager | None = None) -> ResolvedSpec:
    data, lines = load_yaml(path)
    data = apply_overrides(data, overrides or [])
    return validate_spec(data, source=str(path), lines=lines, manager=manager)


# ------------------------------------------------------------------- validation
def validate_spec(
    data: dict[str, Any],
    source: str | None = None,
    lines: dict[str, int] | None = None,
    manager: PluginManager | None = None,
) -> ResolvedSpec:
    """Validate ``data`` in two stages; raise :class:`SpecError` listing every problem."""
    manager = manager or get_plugin_manager()
    lines = lines or {}
    problems: list[tuple[str, str]] = []

    spec: Spec | None = None
    try:
        spec = Spec.model_validate(data)
    except ValidationError as exc:
        problems += [_pydantic_problem(err, (), Spec) for err in exc.errors()]

    components: dict[str, ResolvedComponent] = {}
    sections = {key: kind for key, kind in COMPONENT_SECTIONS.items()}
    descriptor_sections = data.get("descriptors") if isinstance(data.get("descriptors"), dict) else {}
    for modality in descriptor_sections:
        if isinstance(modality, str) and not MODALITY_NAME.fullmatch(modality):
            fixed = re.sub(r"[^A-Za-z0-9_-]+", "_", modality)
            problems.append((f"descriptors.{modality}", f"modality name '{modality}': {MODALITY_NAME_RULE}; rename it, e.g. '{fixed}'"))
            continue
        sections[f"descriptors.{modality}"] = "descriptor"
    for path, kind in sections.items():
        section = _lookup(data, path)
        if not isinstance(section, dict) or not isinstance(section.get("name"), str):
            continue  # stage 1 reported it
        try:
            component = manager.get(kind, section["name"])
        except (UnknownComponentError, AmbiguousComponentError) as exc:
            problems.append((f"{path}.name", str(exc)))
            continue
        params = section.get("params") or {}
        if not isinstance(params, dict):
            continue
        try:
            components[path] = ResolvedComponent(component, component.validate(params))
        except ValidationError as exc:
            problems += [_pydantic_problem(err, (*path.split("."), "params"), component.params_model) for err in exc.errors()]
        except TypeError as exc:
            problems.append((f"{path}.params", str(exc)))

    # modalities: checked whenever the sections that name them resolved, so that their errors
    # come together with the others
    modalities: dict[str, ResolvedComponent] = {}
    declared = {name for name in descriptor_sections if isinstance(name, str)}
    for name in declared:
        if f"descriptors.{name}" in components:
            modalities[name] = components[f"descriptors.{name}"]
    wanted: list[tuple[str, str]] = []
    if "ssl" in components:
        try:
            wanted += [("ssl.params", m) for m in objective_modalities(components["ssl"])]
        except LssatError as exc:
            problems.append(("ssl.params", str(exc)))
    if isinstance(data.get("classify"), str):
        wanted.append(("classify", data["classify"]))
    for path, name in wanted:
        if name in modalities or name in declared:
            continue
        try:
            component = manager.get("descriptor", name)
            modalities[name] = ResolvedComponent(component, component.validate({}))
        except AmbiguousComponentError as exc:  # two plugins register the name: say so, as for a section's name
            problems.append((path, f"modality '{name}': {exc}, e.g. descriptors: {{{name}: {{name: <plugin>/{name}}}}}"))
        except (UnknownComponentError, ValidationError, TypeError):
            known = sorted(declared | set(manager.list("descriptor")))
            close = difflib.get_close_matches(name, known, n=1)
            hint = f" Did you mean '{close[0]}'?" if close else ""
            problems.append((path, f"modality '{name}' is neither declared under `descriptors` nor a registered descriptor.{hint}"))
    problems += _test_set_problems(data, manager)

    if problems:
        raise SpecError([(_with_line(path, lines), msg) for path, msg in problems], source=source)
    assert spec is not None
    return ResolvedSpec(spec=spec, raw=data, components=components, modalities=modalities, source=source)


def cross_dataset_params(component: Component, params: dict[str, Any], run_data: Any) -> dict[str, Any]:
    """A test set's dataset params: the run's ``data`` params that the dataset also takes, except
    those it requires (where its data is), under the test set's own ``params``."""
    fields = component.params_model.model_fields if component.params_model is not None else {}
    run_params = run_data.get("params") if isinstance(run_data, dict) else None
    carried = {key: value for key, value in (run_params or {}).items() if key in fields and not fields[key].is_required()}
    return {**carried, **params}


def _test_set_problems(data: dict[str, Any], manager: PluginManager) -> list[tuple[str, str]]:
    """Stage 2 of ``evaluate:``: each test set's dataset resolved and its params (with the run's
    data params carried over) validated, as the ``data`` section is."""
    problems: list[tuple[str, str]] = []
    items = data.get("evaluate")
    for index, item in enumerate(items if isinstance(items, list) else []):
        params = (item.get("params") or {}) if isinstance(item, dict) else None
        if not isinstance(params, dict) or not isinstance(item.get("name"), str):
            continue  # stage 1 reported it
        path = f"evaluate[{index}]"
        try:
            component = manager.get("dataset", item["name"])
            component.validate(cross_dataset_params(component, params, data.get("data")))
        except (UnknownComponentError, AmbiguousComponentError) as exc:
            problems.append((f"{path}.name", str(exc)))
        except ValidationError as exc:
            problems += [_pydantic_problem(err, (path, "params"), component.params_model) for err in exc.errors()]
        except TypeError as exc:
            problems.append((f"{path}.params", str(exc)))
    return problems


def _lookup(data: Any, dotted: str) -> Any:
    for key in dotted.split("."):
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def _with_line(path: str, lines: dict[str, int]) -> str:
    parts = re.sub(r"\[(\d+)\]", r".\1", path).split(".")  # the line map keys list items as a.1
    for end in range(len(parts), 0, -1):  # the deepest key that exists in the file
        line = lines.get(".".join(parts[:end]))
        if line is not None:
            return f"{path} (line {line})"
    return path


def _pydantic_problem(err: dict[str, Any], prefix: tuple[str, ...], model: type[BaseModel] | None) -> tuple[str, str]:
    loc = tuple(str(part) for part in err["loc"])
    path = ".".join(prefix)
    for part in err["loc"]:  # keys joined by dots, list items in brackets: evaluate[1].params
        path += f"[{part}]" if isinstance(part, int) else f".{part}" if path else str(part)
    message = err["msg"]
    if err["type"] == "extra_forbidden":
        allowed = _fields_at(model, loc[:-1])
        close = difflib.get_close_matches(loc[-1], allowed, n=1)
        message = f"unknown key '{loc[-1]}'"
        message += f"; did you mean '{close[0]}'?" if close else ""
        if allowed:
            message += f" Allowed keys: {', '.join(allowed)}."
    elif "input" in err and err["type"] != "missing" and not isinstance(err["input"], (dict, list)):
        message += f" (got {err['input']!r})"
    return path, message


def _fields_at(model: Any, loc: tuple[str, ...]) -> list[str]:
    """Field names of the pydantic model found by walking ``loc`` from ``model``."""
    current = model
    for part in loc:
        current = _unwrap(current)
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = current.model_fields.get(part)
            if field is None:
                return []
            current = field.annotation
        elif typing.get_origin(current) is dict:
            current = typing.get_args(current)[1]
        elif typing.get_origin(current) is list:  # the part is an item's index
            current = typing.get_args(current)[0]
        else:
            return []
    current = _unwrap(current)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return list(current.model_fields)
    return []


def _unwrap(annotation: Any) -> Any:
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if typing.get_origin(annotation) in (typing.Union, getattr(__import__("types"), "UnionType", None)) and len(args) == 1:
        return args[0]
    return annotation
