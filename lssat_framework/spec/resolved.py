"""A spec that passed both stages of validation: each component section resolved to a registered
component and its validated params."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ..plugins.components import Component
from .schema import Spec

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

