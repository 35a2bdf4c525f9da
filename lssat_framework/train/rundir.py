"""The files of a run directory, and how the commands that read a finished run find them.

``spec.yaml``           the resolved spec;  ``plugins.json`` the plugin versions
``dataset.json``        what the dataset gave (image size, labels, groups): enough to predict
``metrics.jsonl``       one JSON line per epoch: loss terms, task metrics, images/s, step time, peak memory
``summary.json``        written last: final and best metrics, with the headline's interval, the test sets' headlines (a run with it is finished)
``checkpoints/last``    accelerate state (model, optimiser, scheduler, RNG) + ``trainer_state.json``
``checkpoints/best``    the same at the best epoch by ``train.best_metric``
``model.safetensors``   the final model;  ``backbone.safetensors`` the backbone under its own names
``recon/epoch_NNN.png`` reconstruction grids; task artifacts (e.g. ``val_confusion.png``)
``cross_dataset.*``     with ``evaluate:`` in the spec: the test sets' table and ROC curves (see :mod:`.cross`)
"""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path
from typing import Any

from ..errors import LssatError
from ..interfaces import DatasetInfo, LabelInfo
from .checkpoints import find_checkpoint, read_state

SPEC_FILE = "spec.yaml"
DATASET_FILE = "dataset.json"
METRICS_FILE = "metrics.jsonl"
SUMMARY_FILE = "summary.json"
MODEL_FILE = "model.safetensors"


def finite(value: Any) -> Any:
    """``value`` with every non-finite float, at any depth, replaced by ``None`` (JSON null)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [finite(v) for v in value]
    return value


def read_metrics(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def append_metrics(path: Path, record: dict[str, Any]) -> None:
    with open(path, "a") as handle:
        handle.write(json.dumps(finite(record)) + "\n")


def truncate_metrics(path: Path, epochs_done: int) -> None:
    """On resume, keep only the lines of epochs that the checkpoint has finished."""
    if path.exists():
        kept = [r for r in read_metrics(path) if r["epoch"] <= epochs_done]
        path.write_text("".join(json.dumps(r) + "\n" for r in kept))


def dataset_info_json(info: DatasetInfo) -> dict[str, Any]:
    labels = {k: dataclasses.asdict(v) for k, v in info.labels.items()}
    return {"image_size": list(info.image_size), "groups": info.groups, "videos": info.videos, "labels": labels}


def read_dataset_info(run_dir: Path) -> DatasetInfo | None:
    path = run_dir / DATASET_FILE
    if not path.is_file():
        return None
    data = json.loads(path.read_text())
    labels = {k: LabelInfo(**v) for k, v in data["labels"].items()}
    return DatasetInfo(labels=labels, image_size=tuple(data["image_size"]), groups=data.get("groups", {}), videos=data.get("videos", False))


@dataclasses.dataclass
class TrainedWeights:
    """A model file of a run, and the run it belongs to."""

    file: Path
    run_dir: Path | None
    #: which weights, in words, e.g. "best (epoch 3, val auc 0.91)"
    description: str


def find_weights(checkpoint: str | Path) -> TrainedWeights:
    """What ``--checkpoint`` names: a run directory (its best checkpoint when one exists, else its
    final model), one of its checkpoint folders, or a ``.safetensors`` file."""
    path = Path(checkpoint)
    if path.is_file():
        run_dir = path.parent if (path.parent / SPEC_FILE).is_file() else None
        return TrainedWeights(path, run_dir, f"the file {path}")
    if (path / SPEC_FILE).is_file():  # a run directory
        best = find_checkpoint(path / "checkpoints" / "best")  # complete, even while the run swaps it
        if best is not None:
            chosen = read_state(best).get("best") or {}
            what = f"best (epoch {chosen.get('epoch')}, {chosen.get('metric')} {chosen.get('value')})" if chosen else "best"
            return TrainedWeights(best / MODEL_FILE, path, what)
        if (path / MODEL_FILE).is_file():
            return TrainedWeights(path / MODEL_FILE, path, "final")
        raise LssatError(f"--checkpoint: {path} holds no weights yet (no checkpoints/best and no {MODEL_FILE})")
    folder = find_checkpoint(path)  # a checkpoint folder: <run>/checkpoints/<name>
    if folder is not None:
        run_dir = path.parent.parent if (path.parent.parent / SPEC_FILE).is_file() else None
        return TrainedWeights(folder / MODEL_FILE, run_dir, f"checkpoint {path.name}")
    raise LssatError(f"--checkpoint: {path} is neither a run directory, a checkpoint folder nor a .safetensors file")
