"""Building the timm model with its weights: a local file or timm's pretrained tag, loaded strictly.

timm drops the classifier of pretrained weights when the model is headless and then loads the
rest non-strictly, only logging what did not match: a wrong file leaves the backbone random.
Here every load goes through timm (its checkpoint filters resample position tables, its input
conv adaptation handles ``in_chans``) and the tensors timm hands to ``load_state_dict`` are
checked against the model first; anything but the classifier missing, unexpected or of another
shape is an error.
"""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path
from typing import Any

import torch
from torch import nn

from lssat_framework.errors import ComponentError

from .hub import cache_alone_when_unreachable

#: how a run's ``model.safetensors`` names the timm model's tensors (``backbone.safetensors`` has timm's names)
RUN_FILE_PREFIX = "backbone.model."


def create_model(model_name: str, options: dict[str, Any], weights: Path | None, pretrained: bool | str | None) -> nn.Module:
    """The headless timm model ``model_name`` built with ``options``, holding the asked weights.

    On the meta device (metadata only, e.g. to validate a spec) no weights are read.
    """
    name, cfg = pretrained_name(model_name, None if weights is not None else pretrained)
    if torch.empty(()).is_meta or (weights is None and cfg is None):
        return _create(model_name, name, options)
    if weights is not None:
        source = f"weights file {weights}"
        overlay = dict(state_dict=read_weights_file(weights, model_name))
    else:
        source, overlay = f"pretrained weights '{name}'", None
    hub, offline = cache_alone_when_unreachable() if weights is None else contextlib.nullcontext(), None
    try:
        with hub as offline, _checked_loads(model_name, source):
            model = _create(model_name, name, dict(options, pretrained=True, pretrained_cfg_overlay=overlay))
    except OSError as exc:
        if weights is None:
            raise ComponentError(_fetch_failure(model_name, name, cfg, exc, offline)) from None
        raise ComponentError(f"backbone '{model_name}': cannot load {source}: {exc}") from None
    except (RuntimeError, KeyError, ValueError) as exc:
        raise ComponentError(f"backbone '{model_name}': cannot load {source}: {exc}") from None
    model.pretrained_cfg.pop("state_dict", None)  # timm keeps its cfg on the model: not a second copy of the weights
    if offline:
        print(f"lssat: the Hugging Face hub cannot be reached ({offline}): the pretrained weights '{name}' were read from its cache", file=sys.stderr)
    return model


def pretrained_name(model_name: str, pretrained: bool | str | None):
    """The timm name to build (``arch.tag`` when a tag is given) and the pretrained cfg to load, or None."""
    from timm.models import get_arch_pretrained_cfgs, get_pretrained_cfg, split_model_name_tag

    arch, tag = split_model_name_tag(model_name)
    if isinstance(pretrained, str):
        if tag and tag != pretrained:
            raise ComponentError(f"backbone '{model_name}' names the tag '{tag}' but pretrained says '{pretrained}': keep one")
        tag = pretrained
    name = f"{arch}.{tag}" if tag else arch
    if pretrained is False or (pretrained is None and not tag):
        return name, None
    try:
        cfg = get_pretrained_cfg(name)
    except RuntimeError:  # an unknown tag
        cfg = None
    if cfg is None or not (cfg.hf_hub_id or cfg.url or cfg.file):
        tags = [known.tag for known in get_arch_pretrained_cfgs(arch).values() if known.hf_hub_id or known.url or known.file]
        known = f"its tags (the default first): {', '.join(tags)}" if tags else f"'{arch}' has none: set pretrained: false, or weights: to a file"
        raise ComponentError(f"backbone '{model_name}': timm has no pretrained weights '{name}'; {known}")
    return f"{arch}.{cfg.tag}" if cfg.tag else arch, cfg


def read_weights_file(path: Path, model_name: str) -> dict[str, torch.Tensor]:
    """The tensors of a weights file, under timm's names (a run's ``model.safetensors`` is narrowed
    to its backbone: the task head and the objective's decoder are not the backbone's)."""
    from timm.models import load_state_dict

    try:
        state = load_state_dict(str(path), weights_only=True)  # a .pth from elsewhere never runs code
    except Exception as exc:  # noqa: BLE001 - safetensors, pickle and zip errors share no base class
        raise ComponentError(f"backbone '{model_name}': cannot read the weights file {path}: {exc}") from None
    if any(key.startswith(RUN_FILE_PREFIX) for key in state):
        state = {key[len(RUN_FILE_PREFIX):]: value for key, value in state.items() if key.startswith(RUN_FILE_PREFIX)}
    return state


def check_fit(model: nn.Module, state: dict[str, torch.Tensor], model_name: str, source: str) -> None:
    """Raise unless ``state`` holds exactly the model's tensors (the classifier may be extra)."""
    classifier = model.pretrained_cfg.get("classifier") or ()
    extra_allowed = {f"{name}.{part}" for name in ([classifier] if isinstance(classifier, str) else classifier) for part in ("weight", "bias")}
    expected = model.state_dict()
    missing = [key for key in expected if key not in state]
    unexpected = [key for key in state if key not in expected and key not in extra_allowed]
    misshaped = [key for key in expected if key in state and tuple(state[key].shape) != tuple(expected[key].shape)]
    if not (missing or unexpected or misshaped):
        return
    problems = []
    if missing:
        problems.append(f"{len(missing)} missing ({_examples(missing)})")
    if unexpected:
        problems.append(f"{len(unexpected)} unexpected ({_examples(unexpected)})")
    if misshaped:
        shapes = ", ".join(f"{key}: {tuple(state[key].shape)} given, {tuple(expected[key].shape)} here" for key in misshaped[:3])
        problems.append(f"{len(misshaped)} of another shape ({shapes}{', ...' if len(misshaped) > 3 else ''})")
    matched = len(expected) - len(missing) - len(misshaped)
    raise ComponentError(
        f"backbone '{model_name}': {source} does not fit the model: {matched} of {len(expected)} tensors match; "
        f"{'; '.join(problems)}. A run writes its backbone under timm's names to backbone.safetensors; "
        "give that file (or timm weights of this model) with the params it was saved with (depth, embed_dim, ...)"
    )


def _examples(keys: list[str]) -> str:
    return "e.g. " + ", ".join(keys[:3]) + (", ..." if len(keys) > 3 else "")


@contextlib.contextmanager
def _checked_loads(model_name: str, source: str):
    """Check what timm's ``load_pretrained`` hands to ``load_state_dict``: after timm's checkpoint
    filter and input conv adaptation, before its non-strict load."""
    from timm.models import _builder

    original = _builder.load_pretrained

    def load_checked(model: nn.Module, *args, **kwargs):
        def check(module, state, *_):
            check_fit(module, state, model_name, source)

        handle = model.register_load_state_dict_pre_hook(check)
        try:
            return original(model, *args, **kwargs)
        finally:
            handle.remove()

    _builder.load_pretrained = load_checked
    try:
        yield
    finally:
        _builder.load_pretrained = original


def _create(model_name: str, name: str, options: dict[str, Any]) -> nn.Module:
    import timm

    try:
        return timm.create_model(name, num_classes=0, **options)
    except TypeError as exc:
        raise ComponentError(f"backbone '{model_name}' rejected its params: {exc}") from None


def _fetch_failure(model_name: str, name: str, cfg, exc: OSError, offline: str | None) -> str:
    """The error of pretrained weights that could not be had; ``offline``: why the hub was not asked, where it was found unreachable."""
    from huggingface_hub import constants
    from huggingface_hub.errors import LocalEntryNotFoundError

    if cfg is None or not cfg.hf_hub_id:
        where = cfg.url if cfg is not None else name
        return f"backbone '{model_name}': cannot fetch the pretrained weights '{name}' from {where}: {exc}; put the file on disk and set weights: to it"
    if not isinstance(exc, LocalEntryNotFoundError):
        return f"backbone '{model_name}': cannot fetch the pretrained weights '{name}' ({cfg.hf_hub_id}): {exc}"
    return (
        f"backbone '{model_name}': the pretrained weights '{name}' are not in the Hugging Face cache {constants.HF_HUB_CACHE} "
        f"and cannot be downloaded ({offline or ('HF_HUB_OFFLINE=1' if constants.HF_HUB_OFFLINE else 'no connection to the Hugging Face hub')}). "
        "Run once where the hub can be reached "
        f"(the weights are then cached), or fill a cache on such a machine with `hf download {cfg.hf_hub_id}`, copy it here "
        "(to the folder above, or point HF_HUB_CACHE to it) and run with HF_HUB_OFFLINE=1; or set weights: to a local file"
    )
