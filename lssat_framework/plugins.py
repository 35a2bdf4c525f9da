"""Plugin discovery and the component registry.

Plugins are found through entry points in the group ``lssat``, read with the standard library's
``importlib.metadata`` (not ``pluggy``'s ``load_setuptools_entrypoints``, which stops at the first
plugin that fails to import). A plugin that fails to import or raises in a hook is reported once
on stderr with its distribution name and skipped; ``LSSAT_STRICT_PLUGINS=1`` makes that fatal.

Environment variables:

``LSSAT_DISABLE_PLUGINS=a,b``
    block plugins by entry-point name or distribution name.
``LSSAT_STRICT_PLUGINS=1``
    a failing plugin is an error instead of a warning.
``LSSAT_DISABLE_PLUGIN_AUTOLOAD=1``
    load no entry point at all; only plugins registered with :meth:`PluginManager.add_plugin`.
"""

from __future__ import annotations

import difflib
import fnmatch
import importlib.metadata
import inspect
import os
import sys
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

import pluggy
from pydantic import BaseModel

from . import hookspecs
from .errors import AmbiguousComponentError, PluginError, UnknownComponentError

ENTRY_POINT_GROUP = "lssat"

#: kind name used in specs and on the CLI -> the hook that registers components of that kind
KINDS: dict[str, str] = {
    "backbone": "register_backbones",
    "descriptor": "register_descriptors",
    "ssl": "register_ssl_objectives",
    "task": "register_tasks",
    "dataset": "register_datasets",
}


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


def _env_list(name: str) -> set[str]:
    return {item.strip() for item in os.environ.get(name, "").split(",") if item.strip()}


@dataclass(frozen=True)
class Component:
    """One registered component: what a spec section's ``name`` resolves to."""

    kind: str
    name: str
    factory: Callable[..., Any]
    params_model: type[BaseModel] | None
    description: str
    plugin: str
    distribution: str

    @property
    def qualified_name(self) -> str:
        return f"{self.plugin}/{self.name}"

    def validate(self, params: dict[str, Any] | None) -> dict[str, Any]:
        """Validate ``params``; raises ``pydantic.ValidationError``. Returns the factory's kwargs."""
        params = dict(params or {})
        if self.params_model is None:
            if params:
                raise TypeError(f"{self.kind} '{self.name}' takes no params (got {sorted(params)})")
            return {}
        validated = self.params_model.model_validate(params)
        return {key: getattr(validated, key) for key in type(validated).model_fields}

    def build(self, **params: Any) -> Any:
        return self.factory(**self.validate(params))


@dataclass
class PluginInfo:
    """What ``lssat plugins`` reports for one plugin."""

    name: str
    distribution: str
    version: str
    status: str = "ok"  # ok | failed | blocked
    error: str | None = None
    hooks: list[str] = field(default_factory=list)
    components: dict[str, list[str]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "distribution": self.distribution,
            "version": self.version,
            "status": self.status,
            "error": self.error,
            "hooks": self.hooks,
            "components": self.components,
        }


class PluginManager:
    """Loads plugins and holds the registry of their components.

    ``entry_points`` replaces the installed entry points (tests use it to simulate plugins).
    """

    def __init__(
        self,
        entry_points: Iterable[importlib.metadata.EntryPoint] | None = None,
        *,
        strict: bool | None = None,
        disabled: Iterable[str] | None = None,
        autoload: bool | None = None,
    ):
        self.strict = _env_flag("LSSAT_STRICT_PLUGINS") if strict is None else strict
        self.disabled = _env_list("LSSAT_DISABLE_PLUGINS") if disabled is None else set(disabled)
        self.autoload = (not _env_flag("LSSAT_DISABLE_PLUGIN_AUTOLOAD")) if autoload is None else autoload
        self._pm = pluggy.PluginManager("lssat")
        self._pm.add_hookspecs(hookspecs)
        self.plugins: dict[str, PluginInfo] = {}
        self._components: dict[str, list[Component]] = {kind: [] for kind in KINDS}
        self._collected = False
        if self.autoload:
            eps = importlib.metadata.entry_points(group=ENTRY_POINT_GROUP) if entry_points is None else entry_points
            for ep in sorted(eps, key=lambda e: e.name):
                self._load_entry_point(ep)

    # ----------------------------------------------------------------- loading
    def _fail(self, info: PluginInfo, message: str) -> None:
        info.status = "failed"
        info.error = message
        text = f"plugin '{info.name}' (distribution {info.distribution}) failed and was skipped: {message}"
        if self.strict:
            raise PluginError(text + " [LSSAT_STRICT_PLUGINS=1]")
        print(f"lssat: warning: {text}", file=sys.stderr)

    def _load_entry_point(self, ep: importlib.metadata.EntryPoint) -> None:
        dist = getattr(ep, "dist", None)
        info = PluginInfo(
            name=ep.name,
            distribution=dist.metadata["Name"] if dist is not None else "unknown",
            version=dist.version if dist is not None else "unknown",
        )
        self.plugins[ep.name] = info
        if ep.name in self.disabled or info.distribution in self.disabled:
            info.status = "blocked"
            self._pm.set_blocked(ep.name)
            return
        try:
            plugin = ep.load()
        except Exception as exc:  # a broken plugin must not take the CLI down
            self._fail(info, f"import of '{ep.value}' raised {type(exc).__name__}: {exc}")
            return
        self._register(plugin, info)

    def add_plugin(self, plugin: object, name: str, distribution: str = "local", version: str = "0") -> None:
        """Register a plugin object directly (a module, a class instance, ...)."""
        info = PluginInfo(name=name, distribution=distribution, version=version)
        self.plugins[name] = info
        if name in self.disabled or distribution in self.disabled:
            info.status = "blocked"
            return
        self._register(plugin, info)
        self._collected = False

    def _register(self, plugin: object, info: PluginInfo) -> None:
        try:
            self._pm.register(plugin, name=info.name)
        except Exception as exc:
            self._fail(info, str(exc))
            return
        try:
            self._pm.check_pending()
        except pluggy.PluginValidationError as exc:
            self._pm.unregister(name=info.name)
            self._fail(info, self._explain_unknown_hook(plugin, exc))
            return
        info.hooks = sorted(impl.function.__name__ for caller in self._pm.get_hookcallers(plugin) or [] for impl in caller.get_hookimpls() if impl.plugin is plugin)

    def _explain_unknown_hook(self, plugin: object, exc: Exception) -> str:
        known = [name for name in dir(hookspecs) if name.startswith("register_")]
        for attr in dir(plugin):
            value = getattr(plugin, attr, None)
            if callable(value) and self._pm.parse_hookimpl_opts(plugin, attr) is not None and attr not in known:
                close = difflib.get_close_matches(attr, known, n=1)
                hint = f"; did you mean '{close[0]}'?" if close else f"; hooks are: {', '.join(known)}"
                return f"hook implementation '{attr}' matches no hook spec{hint}"
        return str(exc)

    # ---------------------------------------------------------------- registry
    def _collect(self) -> None:
        if self._collected:
            return
        self._components = {kind: [] for kind in KINDS}
        for kind, hook_name in KINDS.items():
            caller = getattr(self._pm.hook, hook_name)
            for impl in reversed(caller.get_hookimpls()):  # registration order
                info = self.plugins[self._pm.get_name(impl.plugin)]
                if info.status != "ok":
                    continue
                added: list[Component] = []

                def register(name, factory, params_model=None, description="", _kind=kind, _info=info, _added=added):
                    _check_registration(_kind, name, factory, params_model, _info)
                    _added.append(Component(_kind, name, factory, params_model, description or _doc_line(factory), _info.name, _info.distribution))

                try:
                    impl.function(**{arg: register for arg in impl.argnames})
                except Exception as exc:
                    self._fail(info, f"{hook_name} raised {type(exc).__name__}: {exc}")
                    for other in self._components.values():  # drop what it registered before failing
                        other[:] = [c for c in other if c.plugin != info.name]
                    continue
                self._components[kind].extend(added)
                if added:
                    info.components[kind] = [c.name for c in added]
        self._collected = True

    def components(self, kind: str) -> list[Component]:
        _check_kind(kind)
        self._collect()
        return list(self._components[kind])

    def list(self, kind: str, pattern: str = "*") -> list[str]:
        """Names of the components of ``kind`` matching the fnmatch ``pattern``, sorted.

        A name registered by two plugins is listed by its qualified names ``plugin/name``.
        """
        counts: dict[str, int] = {}
        comps = self.components(kind)
        for comp in comps:
            counts[comp.name] = counts.get(comp.name, 0) + 1
        names = {comp.name if counts[comp.name] == 1 else comp.qualified_name for comp in comps}
        return sorted(n for n in names if fnmatch.fnmatchcase(n, pattern) or fnmatch.fnmatchcase(n.split("/")[-1], pattern))

    def get(self, kind: str, name: str) -> Component:
        comps = self.components(kind)
        if "/" in name:
            plugin, _, short = name.partition("/")
            for comp in comps:
                if comp.plugin == plugin and comp.name == short:
                    return comp
            matches = []
        else:
            matches = [comp for comp in comps if comp.name == name]
            if len(matches) == 1:
                return matches[0]
            if len(matches) > 1:
                owners = ", ".join(f"'{c.qualified_name}' (distribution {c.distribution})" for c in matches)
                raise AmbiguousComponentError(
                    f"{kind} '{name}' is registered by {len(matches)} plugins: {owners}; use the qualified name"
                )
        close = difflib.get_close_matches(name, self.list(kind), n=3, cutoff=0.6)
        hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        raise UnknownComponentError(f"unknown {kind} '{name}'{hint or '.'} Run `lssat list {kind}` to see what is installed.")

    def create(self, kind: str, name: str, **params: Any) -> Any:
        return self.get(kind, name).build(**params)

    def report(self) -> list[PluginInfo]:
        self._collect()
        return [self.plugins[name] for name in sorted(self.plugins)]


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        close = difflib.get_close_matches(kind, list(KINDS), n=1)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        raise UnknownComponentError(f"unknown component kind '{kind}'{hint} Kinds are: {', '.join(KINDS)}.")


def _check_registration(kind, name, factory, params_model, info: PluginInfo) -> None:
    if not isinstance(name, str) or not name or "/" in name:
        raise ValueError(f"{kind} name must be a non-empty string without '/', got {name!r}")
    if not callable(factory):
        raise TypeError(f"{kind} '{name}': factory must be callable")
    if params_model is not None and not (inspect.isclass(params_model) and issubclass(params_model, BaseModel)):
        raise TypeError(f"{kind} '{name}': params_model must be a pydantic BaseModel subclass")


def _doc_line(obj: Any) -> str:
    doc = inspect.getdoc(obj) or ""
    return doc.strip().splitlines()[0] if doc.strip() else ""


_default: PluginManager | None = None


def get_plugin_manager() -> PluginManager:
    """The process-wide plugin manager, created on first use."""
    global _default
    if _default is None:
        _default = PluginManager()
    return _default


def reset_plugin_manager(manager: PluginManager | None = None) -> None:
    """Replace (or forget) the process-wide plugin manager; used by tests."""
    global _default
    _default = manager
