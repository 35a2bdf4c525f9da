"""One registered component: what a spec section's ``name`` resolves to."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from pydantic import BaseModel

from . import hookspecs
from .errors import PluginError
from .lazy import LazyFactory, LazyReferenceError


@dataclass(frozen=True)
class Component:
    """A component as its plugin registered it. ``factory`` is a callable or a
    :class:`~lssat_framework.lazy.LazyFactory`, imported by :meth:`resolve` when first built."""

    kind: str
    name: str
    factory: Callable[..., Any] | LazyFactory
    params_model: type[BaseModel] | None
    description: str
    plugin: str  # the entry-point name
    distribution: str
    qualifier: str = ""  # how qualified names spell the plugin (see PluginInfo.qualifier)

    @property
    def qualified_name(self) -> str:
        return f"{self.qualifier or self.plugin}/{self.name}"

    @property
    def reference(self) -> str | None:
        """The lazy factory's ``package.module:attr``; None for a callable factory."""
        return self.factory.reference if isinstance(self.factory, LazyFactory) else None

    def validate(self, params: dict[str, Any] | None) -> dict[str, Any]:
        """Validate ``params``; raises ``pydantic.ValidationError``. Returns the factory's kwargs."""
        params = dict(params or {})
        if self.params_model is None:
            if params:
                raise TypeError(f"{self.kind} '{self.name}' takes no params (got {sorted(params)})")
            return {}
        validated = self.params_model.model_validate(params)
        return {key: getattr(validated, key) for key in type(validated).model_fields}

    def resolve(self) -> Callable[..., Any]:
        """The factory, ready to call: a lazy reference is imported (once per reference) and its
        signature checked against the params model. A broken reference is one
        :class:`~lssat_framework.errors.PluginError` naming the plugin, its distribution and the reference."""
        if not isinstance(self.factory, LazyFactory):
            return self.factory
        where = f"plugin '{self.plugin}' (distribution {self.distribution}): the {self.kind} '{self.name}' is built by '{self.reference}'"
        try:
            problem = hookspecs.binding_problem(self.factory, self.params_model)
        except LazyReferenceError as exc:
            raise PluginError(f"{where}, but {exc}; `lssat plugins --check` checks every reference") from exc
        if problem:
            raise PluginError(f"{where}: {problem}")
        return self.factory

    def build(self, **params: Any) -> Any:
        return self.resolve()(**self.validate(params))
