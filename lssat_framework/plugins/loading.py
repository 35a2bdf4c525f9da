"""Plugin discovery and loading.

Plugins are found through entry points in the group ``lssat``, read with the standard library's
``importlib.metadata`` (not ``pluggy``'s ``load_setuptools_entrypoints``, which stops at the first
plugin that fails to import). A plugin that fails to import or raises in a hook is reported once
on stderr with its distribution name and skipped, with everything it registered;
``LSSAT_STRICT_PLUGINS=1`` makes that fatal.

A plugin is identified by its distribution and its entry-point name: two distributions may both
name an entry point ``faces``. Qualified component names spell the plugin by its entry-point name
(``faces/NAME``), or as ``distribution:entry`` (``lssat-plugin-a:faces/NAME``) when two installed
distributions use that entry-point name.

Environment variables:

``LSSAT_DISABLE_PLUGINS=a,b``
    block plugins by entry-point name, distribution name (any PEP 503 spelling) or
    ``distribution:entry``; a name that matches nothing installed is reported.
``LSSAT_STRICT_PLUGINS=1``
    a failing plugin is an error instead of a warning.
``LSSAT_DISABLE_PLUGIN_AUTOLOAD=1``
    load no entry point at all; only plugins registered with :meth:`PluginManager.add_plugin`.

stdout belongs to the command (``lssat plugins --json`` prints JSON there): a plugin's import and
its hooks run with stdout sent to stderr. Each plugin's import is timed (``lssat plugins`` shows
it); one slower than :data:`SLOW_IMPORT_S` is named on stderr, since every command pays for it.
"""

from __future__ import annotations

import contextlib
import difflib
import importlib.metadata
import os
import sys
import time
from typing import Iterable

import pluggy

from .. import hookspecs
from ..errors import PluginError
from .info import PluginInfo, disables, distribution_identity, load_order, normalise_distribution

ENTRY_POINT_GROUP = "lssat"

#: a plugin whose import takes longer (seconds) is named on stderr: every command imports it
SLOW_IMPORT_S = 1.0


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


def _env_list(name: str) -> set[str]:
    return {item.strip() for item in os.environ.get(name, "").split(",") if item.strip()}


class PluginLoader:
    """Loads plugins: entry points found, blocked, imported and registered with pluggy; a plugin
    that fails is recorded and skipped. :class:`~.manager.PluginManager` adds the registry.

    ``entry_points`` replaces the installed entry points (tests use it to simulate plugins).
    ``plugins`` maps :attr:`PluginInfo.key` (``distribution:entry``) to each plugin's record.
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
        self._objects: dict[str, object] = {}
        self._collected = False  # the registry is built again after a plugin is added or fails
        self._disabled_checked = False
        if self.autoload:
            eps = importlib.metadata.entry_points(group=ENTRY_POINT_GROUP) if entry_points is None else entry_points
            for ep in sorted(eps, key=load_order):
                self._load_entry_point(ep)

    def warn(self, text: str) -> None:
        """One warning on stderr; an error under ``LSSAT_STRICT_PLUGINS=1``."""
        if self.strict:
            raise PluginError(text + " [LSSAT_STRICT_PLUGINS=1]")
        print(f"lssat: warning: {text}", file=sys.stderr)

    def fail(self, info: PluginInfo, message: str) -> None:
        """Mark a plugin failed: it contributes nothing from now on."""
        info.status, info.error, info.components = "failed", message, {}
        if self._pm.get_plugin(info.key) is not None:
            self._pm.unregister(name=info.key)
        self._collected = False
        self.warn(f"{info.label} failed and was skipped: {message}")

    def _load_entry_point(self, ep: importlib.metadata.EntryPoint) -> None:
        info = PluginInfo(ep.name, *distribution_identity(ep), target=ep.value)
        earlier = self.plugins.get(info.key)
        if earlier is not None:  # the same line twice is harmless; two targets are a packaging slip
            if earlier.target != ep.value:
                self.warn(
                    f"distribution {info.distribution} declares the entry point '{ep.name}' twice "
                    f"('{earlier.target}' and '{ep.value}'); the first is used"
                )
            return
        self.plugins[info.key] = info
        if self._blocked(info):
            return
        start = time.perf_counter()
        try:
            with contextlib.redirect_stdout(sys.stderr):  # stdout belongs to the command
                plugin = ep.load()
        except Exception as exc:  # a broken plugin must not take the CLI down
            self.fail(info, f"import of '{ep.value}' raised {type(exc).__name__}: {exc}")
            return
        finally:
            self._timed_import(info, time.perf_counter() - start)
        self._register(plugin, info)

    @staticmethod
    def _timed_import(info: PluginInfo, seconds: float) -> None:
        info.import_ms = round(seconds * 1000, 1)
        if seconds > SLOW_IMPORT_S:  # slow is no failure: a warning even under LSSAT_STRICT_PLUGINS
            print(
                f"lssat: warning: {info.label} took {seconds:.1f} s to import, and every lssat command imports it; "
                "a plugin that registers its components by reference imports its heavy code only when a run builds them",
                file=sys.stderr,
            )

    def add_plugin(self, plugin: object, name: str, distribution: str = "local", version: str = "0") -> None:
        """Register a plugin object directly (a module, a class instance, ...)."""
        info = PluginInfo(name=name, distribution=distribution, version=version, target=repr(plugin))
        if info.key in self.plugins:
            raise PluginError(f"{info.label} is registered already; give the second one another name")
        self.plugins[info.key] = info
        self._collected = False
        if not self._blocked(info):
            self._register(plugin, info)

    def _blocked(self, info: PluginInfo) -> bool:
        if not any(disables(item, info) for item in self.disabled):
            return False
        info.status = "blocked"
        self._pm.set_blocked(info.key)
        return True

    def _register(self, plugin: object, info: PluginInfo) -> None:
        try:
            self._pm.register(plugin, name=info.key)
        except Exception as exc:  # e.g. the same module behind two entry points
            self.fail(info, str(exc))
            return
        try:
            self._pm.check_pending()
        except pluggy.PluginValidationError as exc:
            self._pm.unregister(name=info.key)
            self.fail(info, self._explain_unknown_hook(plugin, exc))
            return
        self._objects[info.key] = plugin
        info.hooks = sorted({caller.name for caller in self._pm.get_hookcallers(plugin) or []})

    def _explain_unknown_hook(self, plugin: object, exc: Exception) -> str:
        known = [name for name in dir(hookspecs) if name.startswith("register_")]
        for attr in dir(plugin):
            value = getattr(plugin, attr, None)
            if callable(value) and self._pm.parse_hookimpl_opts(plugin, attr) is not None and attr not in known:
                close = difflib.get_close_matches(attr, known, n=1)
                hint = f"; did you mean '{close[0]}'?" if close else f"; hooks are: {', '.join(known)}"
                return f"hook implementation '{attr}' matches no hook spec{hint}"
        return str(exc)

    def _check_disabled_names(self) -> None:
        """Warn once about each LSSAT_DISABLE_PLUGINS item that blocks nothing, or more than it says."""
        if self._disabled_checked or not self.autoload:
            return
        self._disabled_checked = True
        for item in sorted(self.disabled):
            hits = [info for info in self.plugins.values() if disables(item, info)]
            if not hits:
                self.warn(f"LSSAT_DISABLE_PLUGINS names '{item}', which is no installed plugin{self._installed_hint(item)}")
            elif len({info.distribution for info in hits}) > 1:
                both = ", ".join(f"'{info.distribution}:{info.name}'" for info in hits)
                self.warn(f"LSSAT_DISABLE_PLUGINS: '{item}' blocks {len(hits)} plugins ({both}); name one as distribution:entry")

    def _installed_hint(self, item: str) -> str:
        spellings = {normalise_distribution(i.distribution): i.distribution for i in self.plugins.values()}
        spellings.update({i.name: i.name for i in self.plugins.values()})
        close = difflib.get_close_matches(normalise_distribution(item), list(spellings), n=1, cutoff=0.6)
        if close:
            return f"; did you mean '{spellings[close[0]]}'?"
        names = sorted({f"{i.name} ({i.distribution})" for i in self.plugins.values()})
        return f"; installed: {', '.join(names) or 'none'}"
