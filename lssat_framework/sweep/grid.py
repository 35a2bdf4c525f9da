"""The grid of a sweep: the cartesian product of the ``sweep:`` axes, each variant validated and
named by its axes.

An axis is a dotted spec path with a list of values (``backbone.name: [a, b]``), or a named group
whose variants each set several keys together::

    configuration:
      MRGB-RLDP-CRGB: {ssl.params.mask: rgb, ssl.params.reconstruct: [ldp], classify: rgb}

What an axis varies (:func:`axis_kind`): keys under ``backbone`` name the backbone; keys under
``task`` or ``data`` the task; the key ``seed`` is a replicate; any other axis is a setting.
"""

from __future__ import annotations

import copy
import itertools
import json
from typing import Any, NamedTuple

from ..errors import LssatError, SpecError
from ..files.safe import slug
from ..spec.overrides import set_dotted
from ..spec.resolved import ResolvedSpec
from ..spec.validation import validate_spec

#: what an axis can vary
KINDS = ("backbone", "task", "seed", "setting")


class Variant(NamedTuple):
    """One point of the grid: its directory name, ``{axis: value label}`` and validated spec."""

    name: str
    choice: dict[str, str]
    resolved: ResolvedSpec


def axis_kind(key: str, values: Any) -> str:
    """``backbone``, ``task``, ``seed`` or ``setting``: what an axis varies."""
    keys = [k for variant in values.values() for k in variant] if isinstance(values, dict) else [key]
    if keys and all(k == "seed" for k in keys):
        return "seed"
    if keys and any(k.split(".")[0] == "backbone" for k in keys):  # whatever else it sets (e.g. the input size)
        return "backbone"
    if keys and any(k.split(".")[0] in ("task", "data") for k in keys):
        return "task"
    return "setting"


def axis_kinds(resolved: ResolvedSpec) -> dict[str, str]:
    return {key: axis_kind(key, values) for key, values in (resolved.spec.sweep or {}).items()}


def axis_labels(keys: list[str]) -> dict[str, str]:
    """Each axis's short name in directory names: ``backbone.name`` -> ``backbone``,
    ``backbone.params.depth`` -> ``backbone.depth``; the whole key where two would read alike."""
    short = {key: ".".join(part for part in key.split(".") if part != "params").removesuffix(".name") or key for key in keys}
    taken = list(short.values())
    return {key: label if taken.count(label) == 1 else key for key, label in short.items()}


def value_label(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _axes(sweep: dict[str, Any]) -> list[list[tuple[str, str, dict[str, Any]]]]:
    """Each axis as its choices: (axis, value label, the keys it sets)."""
    axes = []
    for key, values in sweep.items():
        if isinstance(values, dict):  # a named group: each variant sets several keys
            axes.append([(key, str(name), dict(overrides)) for name, overrides in values.items()])
        else:
            axes.append([(key, value_label(value), {key: value}) for value in values])
    return axes


def folder_collisions(axes: list[list[tuple[str, str, dict[str, Any]]]]) -> list[tuple[str, str]]:
    """Two values of one axis whose folder names are one (``"a b"`` and ``"a-b"``, also where
    only their case differs): their variants would share a directory. Since a folder name holds
    one '=' per axis and no slug holds '=', two variants share a folder only where one axis's
    values do."""
    problems = []
    for choices in axes:
        seen: dict[str, str] = {}
        for key, label, _ in choices:
            folder = slug(label)
            first = seen.setdefault(folder.casefold(), label)
            if first is not label:
                problems.append((f"sweep.{key}", _collision(first, label)))
    return problems


def _collision(first: str, second: str) -> str:
    if first == second:
        return f"'{first}' is there twice"
    folders = f"the folder name '{slug(first)}'" if slug(first) == slug(second) else \
        f"the folder names '{slug(first)}' and '{slug(second)}', one folder where case is ignored (macOS, Windows)"
    return (f"'{first}' and '{second}' both become {folders}: folder names keep letters, digits and '_.+-', and each other "
            "run of characters becomes one '-'; make them differ there")


def expand(resolved: ResolvedSpec) -> list[Variant]:
    """Every variant of the grid, in a fixed order (its index is its position); all are validated
    before any runs, and every problem of every variant is reported at once. A variant's folder
    name is made of its axes' labels and values, each through :func:`~lssat_framework.files.safe.slug`."""
    sweep = resolved.spec.sweep or {}
    base = {k: v for k, v in resolved.raw.items() if k != "sweep"}
    labels = {key: slug(label) for key, label in axis_labels(list(sweep)).items()}
    axes = _axes(sweep)
    variants, problems = [], folder_collisions(axes)
    for combo in itertools.product(*axes):
        choice = {key: label for key, label, _ in combo}
        raw = copy.deepcopy(base)
        for _, _, overrides in combo:
            for key, value in overrides.items():
                set_dotted(raw, key, value)
        name = "__".join(f"{labels[key]}={slug(label)}" for key, label in choice.items())
        raw["name"] = f"{base['name']}__{name}"
        try:
            variants.append(Variant(name, choice, validate_spec(raw, source=resolved.source)))
        except SpecError as exc:
            problems += [(f"sweep[{name}] {path}", message) for path, message in exc.problems]
    if problems:
        raise SpecError(problems, source=resolved.source)
    return variants


def pick(variants: list[Variant], which: str) -> int:
    """The index of ``--variant I|NAME``; a clear error naming the range or the names."""
    if which.lstrip("-").isdigit():
        index = int(which)
        if not 0 <= index < len(variants):
            raise LssatError(f"--variant {which}: the grid has {len(variants)} variants, indices 0 to {len(variants) - 1}")
        return index
    for index, variant in enumerate(variants):
        if variant.name == which:
            return index
    names = ", ".join(v.name for v in variants[:6]) + (", ..." if len(variants) > 6 else "")
    raise LssatError(f"--variant {which}: no variant of that index or name; `lssat sweep SPEC --list` shows them ({names})")

