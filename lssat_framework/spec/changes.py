"""What changed between the spec a run was started with (its ``spec.yaml``) and the one asked for
now. A resumed run, or a finished sweep variant counted as done, must not mix two settings: its
numbers would belong to neither. Only keys that cannot change a result may differ."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

#: keys that change how a run is carried out, never its numbers (the world size, which changes
#: the effective batch and the lr scaled from base_lr, is compared on its own:
#: :func:`launched_processes`, and by the trainer on resume)
RESULT_NEUTRAL_KEYS = ("name", "launcher", "train.checkpoint_every", "train.num_workers", "train.prefetch_factor", "train.tensorboard", "train.trackers")


def flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(data, dict) and data:
        flat: dict[str, Any] = {}
        for key, value in data.items():
            flat.update(flatten(value, f"{prefix}.{key}" if prefix else str(key)))
        return flat
    return {prefix: data}


def _neutral(key: str) -> bool:
    return any(key == k or key.startswith(k + ".") for k in RESULT_NEUTRAL_KEYS)


def _differs(old: dict[str, Any], new: dict[str, Any], key: str) -> bool:
    """Whether ``key`` differs, null and absent being the same: a key added since with a null
    default (``train.threads``) leaves a run stored without it as it was."""
    return old.get(key) != new.get(key)


def stored_spec(run_dir: Path) -> dict[str, Any] | None:
    """The spec stored in ``run_dir`` (None: none yet); an unreadable one reads as empty."""
    from .yaml_loading import parse_yaml

    path = Path(run_dir) / "spec.yaml"
    if not path.is_file():
        return None
    try:
        stored = parse_yaml(path.read_text(encoding="utf-8"))
    except Exception:  # noqa: BLE001 - damaged or planted: it matches nothing
        return {}
    return stored if isinstance(stored, dict) else {}


#: the spec as a run resolved it, beside ``spec.yaml`` (:func:`resolved_view`)
RESOLVED_FILE = "resolved.json"


def resolved_view(resolved) -> dict[str, Any]:
    """The spec as it runs: the outer settings and every component's params with their defaults
    filled in, and the distribution and version behind each component. Stored with the run, it
    shows a changed default or an upgraded plugin that the spec's own text cannot."""
    sections = {**resolved.components, **{f"modality.{name}": part for name, part in resolved.modalities.items()}}
    view = {
        "spec": resolved.spec.model_dump(mode="json", exclude={"sweep", "data", "task", "backbone", "ssl", "descriptors"}),
        "components": {
            section: {"name": part.component.name, "distribution": part.component.distribution, "version": part.component.version, "params": part.params}
            for section, part in sections.items()
        },
    }
    return json.loads(json.dumps(view, default=str))


def stored_view(run_dir: Path) -> dict[str, Any] | None:
    try:
        view = json.loads((Path(run_dir) / RESOLVED_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return view if isinstance(view, dict) else None


def spec_differences(run_dir: Path, raw: dict[str, Any], view: dict[str, Any] | None = None) -> list[str]:
    """The dotted keys, other than result-neutral ones, in which the spec stored in ``run_dir``
    differs from ``raw``; with ``view`` (:func:`resolved_view` of the new spec), also those in
    which the resolved spec stored with the run differs (a default or a plugin's version). Empty
    when they match or when nothing is stored yet."""
    stored = stored_spec(run_dir)
    if stored is None:
        return []
    old, new = flatten(stored), flatten(raw)
    keys = sorted(k for k in set(old) | set(new) if not _neutral(k) and _differs(old, new, k))
    if launched_processes(stored) != launched_processes(raw):  # the effective batch and the scaled lr
        keys += [k for k in ("launcher.nodes", "launcher.gpus_per_node", "launcher.tasks_per_node") if old.get(k) != new.get(k)]
    stored_resolved = stored_view(run_dir) if view is not None else None
    if stored_resolved is not None and not keys:
        old, new = flatten(stored_resolved), flatten(view)
        keys = sorted(f"resolved: {k}" for k in set(old) | set(new) if not _neutral(k.removeprefix("spec.")) and _differs(old, new, k))
    return keys


def describe_differences(run_dir: Path, raw: dict[str, Any], keys: list[str], view: dict[str, Any] | None = None) -> str:
    old, new = flatten(stored_spec(run_dir) or {}), flatten(raw)
    if keys and keys[0].startswith("resolved: "):
        old, new = flatten(stored_view(run_dir) or {}), flatten(view or {})
        old, new = ({f"resolved: {k}": v for k, v in side.items()} for side in (old, new))
    shown = [f"{k}: {old.get(k, '<unset>')!r} -> {new.get(k, '<unset>')!r}" for k in keys[:5]]
    return "; ".join(shown) + (f"; and {len(keys) - 5} more" if len(keys) > 5 else "")


def launched_processes(raw: dict[str, Any]) -> int:
    """The processes a sweep's launcher starts for ``raw``: nodes × processes per node
    (``tasks_per_node``, else one per GPU, else one)."""
    launcher = raw.get("launcher") or {}
    if not isinstance(launcher, dict):
        return 1
    return int(launcher.get("nodes") or 1) * int(launcher.get("tasks_per_node") or launcher.get("gpus_per_node") or 1)
