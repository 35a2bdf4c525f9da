"""One registered component: what a spec section's ``name`` resolves to."""

from __future__ import annotations

import contextlib
import sys
from dataclasses import dataclass
from typing import Any, Callable

from pydantic import BaseModel

from .registration import binding_problem
from ..errors import LssatError, PluginError, PluginFaultError
from .lazy import LazyFactory, LazyReferenceError

#: how messages name a kind of component where its spec name is not a word
KIND_WORDS = {"ssl": "SSL objective"}


@dataclass(frozen=True)
class Component:
    """A component as its plugin registered it. ``factory`` is a callable or a
    :class:`~lssat_framework.plugins.lazy.LazyFactory`, imported by :meth:`resolve` when first built."""

    kind: str
    name: str
    factory: Callable[..., Any] | LazyFactory
    params_model: type[BaseModel] | None
    description: str
    plugin: str  # the entry-point name
    distribution: str
    qualifier: str = ""  # how qualified names spell the plugin (see PluginInfo.qualifier)
    version: str = ""  # the distribution's version

    @property
    def qualified_name(self) -> str:
        return f"{self.qualifier or self.plugin}/{self.name}"

    @property
    def blame(self) -> str:
        """Who answers for this component, for messages: ``the descriptor 'x' of plugin 'p'
        (distribution lssat-plugin-p 1.0)``."""
        version = f" {self.version}" if self.version else ""
        return f"the {KIND_WORDS.get(self.kind, self.kind)} '{self.name}' of plugin '{self.plugin}' (distribution {self.distribution}{version})"

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
        :class:`~lssat_framework.errors.PluginError` naming the plugin, its distribution and the reference.
        The factory returned blames a raise on the plugin (:class:`BlamedFactory`)."""
        return BlamedFactory(self._checked_factory(), self.blame)

    def _checked_factory(self) -> Callable[..., Any]:
        if not isinstance(self.factory, LazyFactory):
            return self.factory
        where = f"plugin '{self.plugin}' (distribution {self.distribution}): the {self.kind} '{self.name}' is built by '{self.reference}'"
        try:
            problem = binding_problem(self.factory, self.params_model)
        except LazyReferenceError as exc:
            raise PluginError(f"{where}, but {exc}; `lssat plugins --check` checks every reference") from exc
        if problem:
            raise PluginError(f"{where}: {problem}")
        return self.factory

    def build(self, **params: Any) -> Any:
        return self.resolve()(**self.validate(params))


class BlamedFactory:
    """A component's factory whose raise is the plugin's fault: anything but a
    :class:`~lssat_framework.errors.LssatError` (the plugin's own message to the user, e.g. a
    missing dataset) becomes one :class:`~lssat_framework.errors.PluginFaultError` naming the
    component, its plugin and distribution and the original error, chained. What the factory
    prints goes to stderr: stdout belongs to the command (``lssat eval`` prints JSON there).
    Picklable when the factory is (dataset workers receive it)."""

    __slots__ = ("factory", "blame")

    def __init__(self, factory: Callable[..., Any], blame: str):
        self.factory, self.blame = factory, blame

    def __call__(self, **params: Any) -> Any:
        try:
            with contextlib.redirect_stdout(sys.stderr):
                return self.factory(**params)
        except LssatError:
            raise
        except Exception as exc:
            raise PluginFaultError(f"{self.blame} raised {type(exc).__name__} while being built: {exc}") from exc

    def __repr__(self) -> str:
        return f"BlamedFactory({self.factory!r})"
