"""What each axis of a sweep varies, read from what its values change in the variants' specs.

Two variants that differ only in one axis's value differ in the spec keys that axis sets; those
keys say what the axis is:

* ``backbone`` — it changes the ``backbone`` section, whatever else it sets with it (a group
  ``resnet18: {backbone: {name: resnet18}, data.params.image_size: 64}`` gives each backbone its
  input size and is still the backbone axis);
* ``seed`` — it changes the key ``seed`` and nothing else;
* ``task`` — it changes the task (``task``) or the data source (``data``: its name, root, lists
  or any parameter other than the input size ``data.params.image_size``);
* ``setting`` — anything else.

An axis with a single value changes nothing and keeps the kind it was given at launch
(``sweep.json``'s ``axes``).
"""

from __future__ import annotations

import json
from typing import Any

from ..spec.changes import flatten

#: keys that change how samples are shown to the model, not which samples: not a task of their own
PRESENTATION = ("data.params.image_size",)
#: keys every variant sets differently, whatever the axis
OWN = ("name",)


def _flatten(data: Any) -> dict[str, str]:
    """``data``'s leaves by dotted key, each as its JSON text (lists compare as wholes)."""
    return {key: json.dumps(value, sort_keys=True, default=str) for key, value in flatten(data).items()}


def changed_keys(variants: list[dict[str, Any]], axis: str) -> set[str]:
    """The spec keys in which variants differing only in ``axis`` differ."""
    groups: dict[str, dict[str, dict[str, Any]]] = {}
    for variant in variants:
        others = json.dumps({a: c for a, c in variant["choice"].items() if a != axis}, sort_keys=True)
        groups.setdefault(others, {})[variant["choice"].get(axis)] = _flatten(variant.get("raw") or {})
    changed: set[str] = set()
    for by_value in groups.values():
        specs = list(by_value.values())
        for spec in specs[1:]:
            changed |= {k for k in set(spec) | set(specs[0]) if spec.get(k) != specs[0].get(k)}
    return {k for k in changed if k.split(".")[0] not in OWN}


def kind_of(keys: set[str]) -> str | None:
    """What a set of changed keys makes an axis (None: no key changed)."""
    roots = {key.split(".")[0] for key in keys}
    if not keys:
        return None
    if "backbone" in roots:
        return "backbone"
    if keys == {"seed"}:
        return "seed"
    if "task" in roots or any(k.split(".")[0] == "data" and not k.startswith(PRESENTATION) for k in keys):
        return "task"
    return "setting"


def axis_kinds(manifest: dict[str, Any]) -> dict[str, str]:
    """Each axis of ``sweep.json`` with what it varies, in the axes' order."""
    variants = manifest["variants"]
    return {axis: kind_of(changed_keys(variants, axis)) or stored for axis, stored in manifest["axes"].items()}
