"""Factories named by reference, imported when a component is first built.

A plugin declares a component with what validation needs (name, params model, description) and
its factory as ``"package.module:attr"``, the notation of an entry point's own value. Listing,
``lssat validate`` and ``lssat plugins`` then never import the module that holds the model code
(and torch with it); :meth:`LazyFactory.resolve` imports it when the component is built.
``lazy("package.module:attr", **bound)`` also binds keyword arguments, as ``functools.partial``
does for a callable (one class serving many names, e.g. every timm model).
"""

from __future__ import annotations

import contextlib
import importlib
import re
import sys
from typing import Any, Callable

from ..errors import PluginError

_REFERENCE = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*:[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$")

#: reference -> the object it names, shared by every LazyFactory of that reference
_resolved: dict[str, Callable[..., Any]] = {}


class LazyReferenceError(PluginError):
    """A lazy reference whose module or attribute is missing."""


class LazyFactory:
    """``"package.module:attr"`` and keyword arguments bound to it; calling it imports the module."""

    __slots__ = ("reference", "bound")

    def __init__(self, reference: str, **bound: Any):
        if not isinstance(reference, str) or not _REFERENCE.match(reference):
            raise ValueError(f"a lazy factory is written 'package.module:attr' (an entry point's notation), got {reference!r}")
        self.reference = reference
        self.bound = bound

    def resolve(self) -> Callable[..., Any]:
        """The object the reference names; :class:`LazyReferenceError` when it cannot be imported."""
        found = _resolved.get(self.reference)
        if found is None:
            found = _resolved[self.reference] = _import(self.reference)
        return found

    def __call__(self, **params: Any) -> Any:
        return self.resolve()(**self.bound, **params)

    def _key(self) -> tuple:
        return (self.reference, tuple(sorted(self.bound.items(), key=lambda item: item[0])))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, LazyFactory) and self._key() == other._key()

    def __hash__(self) -> int:
        try:
            return hash(self._key())
        except TypeError:  # an unhashable bound value
            return hash(self.reference)

    def __repr__(self) -> str:
        bound = "".join(f", {key}={value!r}" for key, value in self.bound.items())
        return f"lazy({self.reference!r}{bound})"


def lazy(reference: str, **bound: Any) -> LazyFactory:
    """A factory imported on first use: ``register("lbp", lazy("my_plugin.lbp:LBP"), LBPParams)``;
    a plain ``"my_plugin.lbp:LBP"`` string is the same without bound arguments."""
    return LazyFactory(reference, **bound)


def _import(reference: str) -> Callable[..., Any]:
    module_name, _, attribute = reference.partition(":")
    try:
        with contextlib.redirect_stdout(sys.stderr):  # stdout belongs to the command (JSON output)
            found: Any = importlib.import_module(module_name)
    except ImportError as exc:
        raise LazyReferenceError(f"its module cannot be imported ({type(exc).__name__}: {exc})") from exc
    except Exception as exc:  # the module raised while importing: the plugin's bug, reported as such
        raise LazyReferenceError(f"importing its module raised {type(exc).__name__}: {exc}") from exc
    for part in attribute.split("."):
        try:
            found = getattr(found, part)
        except AttributeError:
            raise LazyReferenceError(f"module '{module_name}' has no attribute '{attribute}'") from None
    if not callable(found):
        raise LazyReferenceError(f"'{reference}' is a {type(found).__name__}, not a callable")
    return found
