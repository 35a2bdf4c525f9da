"""The component registry: what each loaded plugin registered through its hooks, by kind and name,
and the process-wide manager every command uses. Loading the plugins is :mod:`.loading`'s."""

from __future__ import annotations

import contextlib
import difflib
import fnmatch
import inspect
import sys
from collections import Counter
from typing import Any

from ..errors import AmbiguousComponentError, PluginError, UnknownComponentError
from .components import Component
from .info import PluginInfo, names_plugin, normalise_distribution
from .lazy import LazyFactory
from .loading import PluginLoader
from .registration import check_registration

#: kind name used in specs and on the CLI -> the hook that registers components of that kind
KINDS: dict[str, str] = {
    "backbone": "register_backbones",
    "descriptor": "register_descriptors",
    "ssl": "register_ssl_objectives",
    "task": "register_tasks",
    "dataset": "register_datasets",
    # the face-finding steps of frame preparation (``lssat prepare --detector/--landmarker``)
    "face_detector": "register_face_detectors",
    "face_landmarker": "register_face_landmarkers",
    # how ``lssat predict`` finds faces in new files as a dataset's frames were prepared
    "face_reader": "register_face_readers",
}


class PluginManager(PluginLoader):
    """Loads plugins (:class:`~.loading.PluginLoader`) and holds the registry of their components."""

    #: kind -> the components of every loaded plugin, built by :meth:`_collect` before any read
    _components: dict[str, list[Component]]

    def active_plugins(self) -> list[PluginInfo]:
        """The plugins that loaded and whose hooks all succeeded, in load order."""
        self._collect()
        return [info for info in self.plugins.values() if info.status == "ok"]

    def call_hook(self, info: PluginInfo, hook_name: str, argument: Any) -> bool:
        """Call ``info``'s implementation of ``hook_name``; a raise fails the plugin (returns False)."""
        plugin = self._objects[info.key]
        for impl in getattr(self._pm.hook, hook_name).get_hookimpls():
            if impl.plugin is not plugin:
                continue
            try:
                with contextlib.redirect_stdout(sys.stderr):  # stdout belongs to the command
                    impl.function(**{arg: argument for arg in impl.argnames})
            except Exception as exc:
                detail = f": {exc}" if isinstance(exc, PluginError) else f" raised {type(exc).__name__}: {exc}"
                self.fail(info, hook_name + detail)
                return False
        return True

    def _collect(self) -> None:
        if self._collected:
            return
        counts = Counter(info.name for info in self.plugins.values())
        for info in self.plugins.values():
            info.qualifier = info.name if counts[info.name] == 1 else f"{info.distribution}:{info.name}"
        self._components = {kind: [] for kind in KINDS}
        for info in [i for i in self.plugins.values() if i.status == "ok"]:
            found = self._components_of(info)
            if found is None:  # it failed: nothing it registered stays
                continue
            for kind, components in found.items():
                self._components[kind].extend(components)
            info.components = {kind: [c.name for c in components] for kind, components in found.items() if components}
        self._collected = True
        self._check_disabled_names()

    def _components_of(self, info: PluginInfo) -> dict[str, list[Component]] | None:
        found: dict[str, list[Component]] = {kind: [] for kind in KINDS}
        for kind, hook_name in KINDS.items():
            names: set[str] = set()

            def register(name, factory, params_model=None, description="", _kind=kind, _names=names):
                if isinstance(factory, str):  # "package.module:attr", imported when first built
                    factory = LazyFactory(factory)
                check_registration(_kind, name, factory, params_model)
                if name in _names:
                    raise PluginError(f"{_kind} '{name}' is registered twice")
                _names.add(name)
                description = description or ("" if isinstance(factory, LazyFactory) else _doc_line(factory))
                found[_kind].append(Component(_kind, name, factory, params_model, description, info.name, info.distribution, info.qualifier, info.version))

            if not self.call_hook(info, hook_name, register):
                return None
        return found

    def components(self, kind: str) -> list[Component]:
        _check_kind(kind)
        self._collect()
        return list(self._components[kind])

    def list(self, kind: str, pattern: str = "*") -> list[str]:
        """Names of the components of ``kind`` matching the fnmatch ``pattern``, sorted.

        A name registered by two plugins is listed by its qualified names ``plugin/name``.
        """
        comps = self.components(kind)
        counts = Counter(comp.name for comp in comps)
        names = {comp.name if counts[comp.name] == 1 else comp.qualified_name for comp in comps}
        return sorted(n for n in names if fnmatch.fnmatchcase(n, pattern) or fnmatch.fnmatchcase(n.split("/")[-1], pattern))

    def get(self, kind: str, name: str) -> Component:
        comps = self.components(kind)
        if "/" in name:
            qualifier, _, short = name.rpartition("/")
            matches = [c for c in comps if c.name == short and names_plugin(qualifier, c.plugin, c.distribution)]
        else:
            matches = [comp for comp in comps if comp.name == name]
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            owners = ", ".join(f"'{c.qualified_name}' (distribution {c.distribution})" for c in matches)
            raise AmbiguousComponentError(f"{kind} '{name}' is registered by {len(matches)} plugins: {owners}; use the qualified name")
        close = difflib.get_close_matches(name, self.list(kind), n=3, cutoff=0.6)
        hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        raise UnknownComponentError(f"unknown {kind} '{name}'{hint or '.'} Run `lssat list {kind}` to see what is installed.")

    def create(self, kind: str, name: str, **params: Any) -> Any:
        return self.get(kind, name).build(**params)

    def check_references(self) -> list[str]:
        """Resolve every lazy factory now (``lssat plugins --check``) instead of when it is first
        built: one message per reference that cannot be imported or does not fit its params model."""
        problems: list[str] = []
        seen: set[tuple] = set()
        for kind in KINDS:
            for component in self.components(kind):
                if component.reference is None:
                    continue
                key = (component.plugin, component.distribution, component.reference, tuple(sorted(component.factory.bound)), component.params_model)
                if key in seen:  # timm's thousands of models share one reference: one check
                    continue
                seen.add(key)
                try:
                    component.resolve()
                except PluginError as exc:
                    problems.append(str(exc))
        return problems

    def report(self) -> list[PluginInfo]:
        self._collect()
        return sorted(self.plugins.values(), key=lambda info: (info.name, normalise_distribution(info.distribution)))


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        close = difflib.get_close_matches(kind, list(KINDS), n=1)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        raise UnknownComponentError(f"unknown component kind '{kind}'{hint} Kinds are: {', '.join(KINDS)}.")


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
