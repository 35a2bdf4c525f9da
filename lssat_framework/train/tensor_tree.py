"""State that holds tensors (an optimiser's, a scaler's, the random generators'), saved and read
back without pickle: the tensors go to ``<name>.safetensors``, everything around them to
``<name>.json``. Reading either file runs no code, whoever wrote it.

The JSON mirrors the state's structure. Plain values (None, booleans, numbers, strings), lists and
dicts with string keys are written as they are; the rest is tagged: ``{"$tensor": key}`` (a tensor
in the safetensors file), ``{"$ndarray": key}`` (a numpy array, kept as one), ``{"$tuple": [...]}``
and ``{"$items": [[key, value], ...]}`` (a dict whose keys are not all strings, e.g. an optimiser's
``state`` keyed by parameter index). Anything else is refused when saving, naming where it is.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import torch

from ..errors import LssatError
from ..files.safe import write_bytes_atomic

TAGS = ("$tensor", "$ndarray", "$tuple", "$items", "$float")


class DamagedStateError(LssatError):
    """A saved state file cannot be read back: damaged, or not written by this framework."""


def _encode(value: Any, tensors: dict[str, torch.Tensor], where: str) -> Any:
    import numpy as np

    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):  # JSON has no NaN or infinity: keep them as text
        return value if math.isfinite(value) else {"$float": repr(value)}
    if isinstance(value, torch.Tensor):
        tensors[where] = value.detach().contiguous()
        return {"$tensor": where}
    if isinstance(value, np.ndarray):
        tensors[where] = torch.from_numpy(np.ascontiguousarray(value))
        return {"$ndarray": where}
    if isinstance(value, (np.integer, np.floating)):
        return _encode(value.item(), tensors, where)
    if isinstance(value, (list, tuple)):
        items = [_encode(item, tensors, f"{where}.{i}") for i, item in enumerate(value)]
        return items if isinstance(value, list) else {"$tuple": items}
    if isinstance(value, dict):
        if all(isinstance(key, str) and not key.startswith("$") for key in value):
            return {key: _encode(item, tensors, f"{where}.{key}") for key, item in value.items()}
        return {"$items": [[_encode(key, tensors, f"{where}.key{i}"), _encode(item, tensors, f"{where}.{key}")] for i, (key, item) in enumerate(value.items())]}
    raise TypeError(f"cannot save {type(value).__name__} at {where} without pickle")


def _decode(value: Any, tensors: dict[str, torch.Tensor], where: str) -> Any:
    if isinstance(value, list):
        return [_decode(item, tensors, where) for item in value]
    if not isinstance(value, dict):
        return value
    tag = next((key for key in value if key in TAGS), None)
    if tag is None:
        return {key: _decode(item, tensors, where) for key, item in value.items()}
    body = value[tag]
    if tag in ("$tensor", "$ndarray"):
        if body not in tensors:
            raise DamagedStateError(f"{where}: names tensor '{body}', which its .safetensors file does not hold")
        return tensors[body] if tag == "$tensor" else tensors[body].numpy()
    if tag == "$float":
        if body not in ("nan", "inf", "-inf"):
            raise DamagedStateError(f"{where}: '{body}' is not a number")
        return float(body)
    if not isinstance(body, list):
        raise DamagedStateError(f"{where}: {tag} must hold a list")
    if tag == "$tuple":
        return tuple(_decode(item, tensors, where) for item in body)
    if not all(isinstance(pair, list) and len(pair) == 2 for pair in body):
        raise DamagedStateError(f"{where}: $items must hold [key, value] pairs")
    return {_hashable(_decode(k, tensors, where), where): _decode(v, tensors, where) for k, v in body}


def _hashable(key: Any, where: str) -> Any:
    if isinstance(key, (list, dict)):
        raise DamagedStateError(f"{where}: a dict key cannot be a {type(key).__name__}")
    return key


def save_tree(state: Any, folder: Path, name: str) -> None:
    """Write ``state`` as ``folder/name.json`` and, when it holds tensors, ``folder/name.safetensors``
    (``folder``: a fresh folder of the caller's, where no link can be planted)."""
    from safetensors.torch import save_file

    tensors: dict[str, torch.Tensor] = {}
    structure = _encode(state, tensors, name)
    if tensors:
        save_file({k: v.cpu() for k, v in tensors.items()}, str(folder / f"{name}.safetensors"))
    write_bytes_atomic(folder / f"{name}.json", json.dumps(structure, allow_nan=False).encode())


def read_json(path: Path) -> Any:
    """A JSON file of a run directory, or one clear error when it is not JSON (damaged, or planted)."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise DamagedStateError(f"{path}: cannot be read as JSON ({error}); the run directory is damaged or was not written by lssat") from None


def load_tree(folder: Path, name: str) -> Any:
    """What :func:`save_tree` wrote, with its tensors on the CPU."""
    structure_file, tensor_file = folder / f"{name}.json", folder / f"{name}.safetensors"
    structure = read_json(structure_file)
    tensors: dict[str, torch.Tensor] = {}
    if tensor_file.exists():
        tensors = load_safetensors(tensor_file)
    return _decode(structure, tensors, str(structure_file))


def load_safetensors(path: Path) -> dict[str, torch.Tensor]:
    """A safetensors file's tensors (on the CPU), or a clear error when it is not one."""
    from safetensors.torch import load_file

    try:
        return load_file(str(path))
    except Exception as error:  # safetensors raises its own error types for a damaged header
        raise DamagedStateError(f"{path}: not a readable safetensors file ({type(error).__name__}: {str(error)[:200]}); it is damaged or was not written by lssat") from None


def save_safetensors(tensors: dict[str, torch.Tensor], path: Path) -> None:
    """Write ``tensors`` to ``path`` whole or not at all (a new file renamed over it, so a link at
    ``path`` is replaced, never written through)."""
    from safetensors.torch import save_file

    tmp = path.with_name(path.name + ".tmp")
    if tmp.exists() or tmp.is_symlink():
        tmp.unlink()
    save_file({k: v.detach().contiguous() for k, v in tensors.items()}, str(tmp))
    os.replace(tmp, path)


def write_npz_atomic(path: Path, arrays: dict[str, Any]) -> None:
    """Arrays as one ``.npz`` (plain arrays, read back with ``allow_pickle=False``), whole or not at all."""
    import io

    import numpy as np

    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    write_bytes_atomic(path, buffer.getvalue())
