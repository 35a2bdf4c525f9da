"""lssat-framework: train and benchmark L-SSAT face models.

The public API is small, like timm's::

    import lssat_framework as lssat
    lssat.list("descriptor")                 # ['gray', 'hog', 'lbp', 'ldp', 'ltp', 'rgb']
    lbp = lssat.create("descriptor", "lbp", points=8, radius=1)
"""

from __future__ import annotations

import builtins
from typing import Any

from .errors import LssatError
from .hookspecs import hookimpl
from .plugins.lazy import lazy
from .plugins.manager import KINDS, get_plugin_manager

__version__ = "0.1.0"
__all__ = ["create", "list", "hookimpl", "lazy", "KINDS", "LssatError", "__version__"]


def create(kind: str, name: str, **params: Any) -> Any:
    """Build the component ``name`` of ``kind`` with ``params`` validated by its plugin's model."""
    from pydantic import ValidationError

    from .errors import SpecError
    from .spec.problems import pydantic_problem

    component = get_plugin_manager().get(kind, name)
    try:
        return component.build(**params)
    except ValidationError as exc:
        raise SpecError([pydantic_problem(e, ("params",), component.params_model) for e in exc.errors()], source=f"{kind} '{name}'") from None


def list(kind: str, pattern: str = "*") -> builtins.list[str]:  # noqa: A001 - mirrors timm.list_models
    """Names of registered components of ``kind`` matching the fnmatch ``pattern``."""
    return get_plugin_manager().list(kind, pattern)
