"""The names of timm's models, known without importing timm (and torch with it).

timm learns its model names by importing its model modules: about 2 s, torch included. So the
names are kept in a small JSON file per timm installation in the user's cache folder
(``$LSSAT_CACHE_DIR``, else ``$XDG_CACHE_HOME/lssat``, else ``~/.cache/lssat``), written the first
time they are listed. The file records timm's version, location and the time its model folder
last changed; any difference (an upgrade, another environment, an edited checkout) lists them
from timm again. A cache folder that cannot be written costs the import each time, nothing more.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import json
import os
from pathlib import Path
from typing import Any

#: bumped when the file's contents change meaning
FORMAT = 1


def cache_dir() -> Path:
    if os.environ.get("LSSAT_CACHE_DIR"):
        return Path(os.environ["LSSAT_CACHE_DIR"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "lssat"


def installation() -> dict[str, Any] | None:
    """What identifies the installed timm, read without importing it; None when it is absent."""
    spec = importlib.util.find_spec("timm")
    if spec is None or not spec.origin:
        return None
    package = Path(spec.origin).parent
    models = package / "models"
    changed = (models if models.is_dir() else package).stat().st_mtime_ns
    return {"format": FORMAT, "version": importlib.metadata.version("timm"), "location": str(package), "changed": changed}


def model_names() -> list[str]:
    """Every timm model name, then every ``name.tag`` with pretrained weights (``timm.list_models``)."""
    key = installation()
    if key is None:
        import timm  # noqa: F401 - raises the ImportError that names what is missing
    path = cache_dir() / f"timm-models-{hashlib.sha1(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]}.json"
    cached = _read(path, key)
    if cached is not None:
        return cached
    names = list_from_timm()
    _write(path, key, names)
    return names


def list_from_timm() -> list[str]:
    import timm

    return [*timm.list_models(), *timm.list_models(pretrained=True)]


def _read(path: Path, key: dict[str, Any]) -> list[str] | None:
    try:
        stored = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(stored, dict) or stored.get("key") != key or not isinstance(stored.get("names"), list):
        return None
    return stored["names"]


def _write(path: Path, key: dict[str, Any], names: list[str]) -> None:
    """Atomically (another process may read it meanwhile); quietly nothing when it cannot be written."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary.write_text(json.dumps({"key": key, "names": names}))
        os.replace(temporary, path)
    except OSError:
        temporary.unlink(missing_ok=True)
