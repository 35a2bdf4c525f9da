"""Who a plugin is: one entry point of one distribution (:class:`PluginInfo`), and how names
spell it: ``entry`` or ``distribution:entry``, the distribution in any PEP 503 spelling."""

from __future__ import annotations

import contextlib
import importlib.metadata
import re
import weakref
from dataclasses import asdict, dataclass, field
from typing import Any

#: the framework's own distribution: its plugins load first, so a third-party plugin cannot take
#: a builtin command name
CORE_DISTRIBUTION = "lssat-framework"


def normalise_distribution(name: str) -> str:
    """PEP 503: ``Lssat_Plugin.X`` and ``lssat-plugin-x`` name the same distribution."""
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass
class PluginInfo:
    """What ``lssat plugins`` reports for one plugin: one entry point of one distribution."""

    name: str  # the entry-point name
    distribution: str
    version: str
    status: str = "ok"  # ok | failed | blocked
    error: str | None = None
    hooks: list[str] = field(default_factory=list)
    components: dict[str, list[str]] = field(default_factory=dict)
    target: str = ""  # what the entry point loads (its value)
    #: the plugin in qualified names: the entry-point name, or ``distribution:entry`` when several
    #: installed distributions use that entry-point name
    qualifier: str = ""
    #: how long importing the entry point took, in milliseconds (None: not imported, e.g. blocked)
    import_ms: float | None = None

    @property
    def key(self) -> str:
        return f"{normalise_distribution(self.distribution)}:{self.name}"

    @property
    def label(self) -> str:
        return f"plugin '{self.name}' (distribution {self.distribution})"

    def as_dict(self) -> dict[str, Any]:
        record = {key: value for key, value in asdict(self).items() if key != "target"}
        return {**record, "qualifier": self.qualifier or self.name}


def names_plugin(qualifier: str, entry: str, distribution: str) -> bool:
    """Whether ``qualifier`` (what comes before '/' in a qualified name) is ``entry`` or
    ``distribution:entry``, the distribution in any PEP 503 spelling."""
    named_distribution, colon, named_entry = qualifier.partition(":")
    if colon:
        return named_entry == entry and normalise_distribution(named_distribution) == normalise_distribution(distribution)
    return qualifier == entry


def load_order(ep: importlib.metadata.EntryPoint) -> tuple:
    distribution = normalise_distribution(distribution_identity(ep)[0])
    return (distribution != CORE_DISTRIBUTION, ep.name, distribution)


#: a distribution's (name, version), read once per distribution object: each read parses its
#: METADATA file again, and a manager asked three times for each of its entry points (a third of
#: its start-up). A new ``entry_points()`` call makes new objects, so an upgrade is read afresh.
_identities: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def distribution_identity(ep: importlib.metadata.EntryPoint) -> tuple[str, str]:
    """The name and version of the distribution that declares ``ep`` ("unknown" where none does)."""
    dist = getattr(ep, "dist", None)
    if dist is None:
        return "unknown", "unknown"
    try:
        return _identities[dist]
    except (KeyError, TypeError):  # TypeError: a distribution class that cannot be weakly referenced
        metadata = dist.metadata
        found = (metadata["Name"], metadata["Version"])
    with contextlib.suppress(TypeError):
        _identities[dist] = found
    return found


def disables(item: str, info: PluginInfo) -> bool:
    """Whether the LSSAT_DISABLE_PLUGINS item names ``info`` (entry, distribution or distribution:entry)."""
    return names_plugin(item, info.name, info.distribution) or normalise_distribution(item) == normalise_distribution(info.distribution)
