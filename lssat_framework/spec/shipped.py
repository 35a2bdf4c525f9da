"""The example specs that ship inside the package (``lssat_framework/specs/``), found by name.

A shipped spec's name is its file name without ``.yaml`` (``quickstart``, ``study``,
``MRGB-RLDP-CRGB``); its description is its first comment line. Wherever a command takes a spec,
a file of that name wins and a shipped spec is the fallback, so ``lssat-run quickstart`` works
from any folder after ``pip install lssat-framework``. They are found with
:mod:`importlib.resources`, so an editable install and a wheel read the same files.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import LssatError

if TYPE_CHECKING:  # importlib.resources.abc is Python 3.11's; 3.10 has the class elsewhere
    from importlib.resources.abc import Traversable

#: the package data folder that holds the shipped specs
SPECS_FOLDER = "specs"
SUFFIX = ".yaml"


@dataclass(frozen=True)
class ShippedSpec:
    name: str
    description: str
    resource: Traversable

    def text(self) -> str:
        return self.resource.read_text(encoding="utf-8")


def _description(text: str) -> str:
    first = next((line for line in text.splitlines() if line.strip()), "")
    return first.lstrip("#").strip() if first.lstrip().startswith("#") else ""


def _spec_files(folder: Traversable):
    """The ``.yaml`` files under ``folder``: its own first, then each subfolder's, by name."""
    entries = sorted(folder.iterdir(), key=lambda entry: entry.name)
    yield from (entry for entry in entries if entry.is_file() and entry.name.endswith(SUFFIX))
    for entry in entries:
        if entry.is_dir():
            yield from _spec_files(entry)


def shipped_specs() -> dict[str, ShippedSpec]:
    """Name -> shipped spec, in the order ``lssat specs`` lists them."""
    found = {}
    for resource in _spec_files(resources.files("lssat_framework") / SPECS_FOLDER):
        name = resource.name[: -len(SUFFIX)]
        found[name] = ShippedSpec(name, _description(resource.read_text(encoding="utf-8")), resource)
    return found


def find_spec(spec: str | os.PathLike) -> Path:
    """The file a command's SPEC argument names: that file when it exists, else the shipped spec
    of that name. pip installs a package as files on disk, so a shipped spec has a path."""
    path = Path(spec)
    if path.is_file():
        return path
    shipped = shipped_specs().get(str(spec))
    if shipped is None:
        raise LssatError(f"spec file not found: {spec}; no shipped spec has that name either "
                         f"(shipped: {', '.join(shipped_specs())}; `lssat specs` describes them)")
    return Path(os.fspath(shipped.resource))


def copy_out(name: str, folder: str | os.PathLike) -> Path:
    """Copy the shipped spec ``name`` to ``folder/name.yaml`` (the folder made when missing), to
    edit. An existing file is never replaced: exclusive creation also refuses a symlink there."""
    shipped = shipped_specs().get(name)
    if shipped is None:
        raise LssatError(f"lssat init: no shipped spec is named '{name}' (shipped: {', '.join(shipped_specs())})")
    target = Path(folder) / f"{name}{SUFFIX}"
    Path(folder).mkdir(parents=True, exist_ok=True)
    try:
        handle = open(target, "x", encoding="utf-8")
    except FileExistsError:
        raise LssatError(f"{target} exists; lssat init never replaces a file: edit it, or name another folder "
                         f"(lssat init {name} DIR)") from None
    with handle:
        try:
            handle.write(shipped.text())
        except BaseException:  # no half-written spec left behind to be refused next time
            target.unlink()
            raise
    return target
