"""The checks of a plugin's ``register(name, factory, params_model, description)`` call, made
when the plugin registers; a lazy factory is checked when it is first resolved."""

from __future__ import annotations

import functools
import inspect
from typing import Any, Callable

from pydantic import BaseModel

from ..errors import PluginError
from .lazy import LazyFactory


def check_registration(kind: str, name: Any, factory: Any, params_model: Any) -> None:
    """What every ``register`` call must satisfy, checked when the plugin registers (a
    :class:`~lssat_framework.errors.PluginError` or ``TypeError``/``ValueError`` fails the plugin).
    A lazy factory is checked against its params model when it is resolved (:func:`check_binding`)."""
    if not isinstance(name, str) or not name or "/" in name:
        raise ValueError(f"{kind} name must be a non-empty string without '/', got {name!r}")
    if not isinstance(factory, LazyFactory) and not callable(factory):
        raise TypeError(f"{kind} '{name}': factory must be callable or a 'package.module:attr' reference")
    if params_model is not None and not (inspect.isclass(params_model) and issubclass(params_model, BaseModel)):
        raise TypeError(f"{kind} '{name}': params_model must be a pydantic BaseModel subclass")
    if not isinstance(factory, LazyFactory):
        check_binding(kind, name, factory, params_model)


def check_binding(kind: str, name: str, factory: Any, params_model: type[BaseModel] | None) -> None:
    """Raise :class:`~lssat_framework.errors.PluginError` when ``factory(**fields of params_model)`` cannot bind."""
    problem = binding_problem(factory, params_model)
    if problem:
        raise PluginError(f"{kind} '{name}': {problem}")


def binding_problem(factory: Any, params_model: type[BaseModel] | None) -> str | None:
    """Why ``factory(**fields of params_model)`` cannot bind, or None; a lazy factory is resolved
    first (a :class:`~lssat_framework.plugins.lazy.LazyReferenceError` when it cannot be)."""
    return _binding_problem(_shape(factory), params_model)


def _shape(factory: Callable[..., Any]) -> Any:
    """What decides how ``factory(**params)`` binds, hashable for the cache: a ``functools.partial``
    (or a lazy factory) by its function, the number of positions and the keywords it binds."""
    if isinstance(factory, functools.partial):
        return ("partial", _shape(factory.func), len(factory.args), tuple(sorted(factory.keywords)))
    if isinstance(factory, LazyFactory):
        return ("partial", _shape(factory.resolve()), 0, tuple(sorted(factory.bound)))
    try:
        hash(factory)
    except TypeError:  # an unhashable callable object: not checked
        return None
    return factory


@functools.lru_cache(maxsize=None)  # a plugin may register thousands of components of one class (timm)
def _binding_problem(shape: Any, params_model: type[BaseModel] | None) -> str | None:
    """Why ``factory(**fields of params_model)`` cannot bind, or None (also when Python cannot
    tell, e.g. for ``dict``). Checked at registration instead of at the first run."""
    parameters = _parameters(shape)
    if parameters is None:
        return None
    factory_name = _name(shape)
    model_name = params_model.__name__ if params_model is not None else None
    fields = list(params_model.model_fields) if params_model is not None else []
    by_keyword = [p.name for p in parameters if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    if not any(p.kind is p.VAR_KEYWORD for p in parameters):
        for name in fields:
            if name not in by_keyword:
                takes = ", ".join(by_keyword) or "no keyword arguments"
                return (
                    f"params_model {model_name} has the field '{name}', which the factory {factory_name} does not "
                    f"take (it takes: {takes}); rename the field or add the argument"
                )
    for p in parameters:
        if p.default is p.empty and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD) and p.name not in fields:
            source = f"params_model {model_name} has no field" if model_name else "no params_model gives it"
            return f"the factory {factory_name} requires '{p.name}', but {source}; add the field or a default"
    return None


def _parameters(shape: Any) -> list[inspect.Parameter] | None:
    """The parameters a call binds: a class's ``__init__`` without ``self``; a partial's function
    without the positions it binds, the keywords it binds given a default."""
    if isinstance(shape, tuple) and shape[0] == "partial":
        _, inner_shape, bound_positions, bound_keywords = shape
        inner = _parameters(inner_shape)
        if inner is None:
            return None
        positional = [p.name for p in inner if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)][:bound_positions]
        return [p.replace(default=None) if p.name in bound_keywords else p for p in inner if p.name not in positional]
    try:
        if inspect.isclass(shape) and shape.__init__ is not object.__init__:
            return list(inspect.signature(shape.__init__).parameters.values())[1:]
        return list(inspect.signature(shape, follow_wrapped=False).parameters.values())
    except (TypeError, ValueError):
        return None


def _name(shape: Any) -> str:
    while isinstance(shape, tuple):
        shape = shape[1]
    return getattr(shape, "__qualname__", None) or type(shape).__name__
