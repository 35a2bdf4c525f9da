"""``--set key.path=value``: a spec value changed from the command line (its value read as YAML)."""

from __future__ import annotations

import copy
from typing import Any

import yaml

from ..errors import LssatError
from .yaml_loading import parse_yaml


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

