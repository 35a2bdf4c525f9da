"""The files ``lssat predict`` is given: videos and images, folders searched, named as given."""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import LssatError
from ..files.safe import is_inside


def shown(path: Path) -> str:
    """A path as text that any CSV or terminal takes: bytes of a name that are not UTF-8 as
    ``\\xNN`` escapes (such a file is still read; only its name is written so)."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


def printable(value):
    """``value``, a text holding such a name (an error message) escaped as :func:`shown` does."""
    return value.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace") if isinstance(value, str) else value


def list_inputs(given: list[str], suffixes: set[str], out: Path | None = None) -> list[Path]:
    """The files among ``given``: a file as it is, a folder's files with one of ``suffixes``
    (recursively, hidden ones and those under ``out`` left out). A path that does not exist, or
    nothing to read, is the user's error."""
    found: list[Path] = []
    for name in given:
        path = Path(name)
        if path.is_dir():
            found += sorted(
                p for p in path.rglob("*")
                if p.suffix.lower() in suffixes and not p.name.startswith(".") and p.is_file() and not (out and is_inside(out, p))
            )
        elif path.is_file():
            found.append(path)
        else:
            raise LssatError(f"predict: no such file or folder: {shown(path)}")
    if not found:
        raise LssatError(f"predict: no video or image among {', '.join(given)} (files ending in {', '.join(sorted(suffixes))})")
    return found
