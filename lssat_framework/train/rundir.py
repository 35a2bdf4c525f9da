"""The files of a run directory, and how the commands that read a finished run find them.

``spec.yaml``           the resolved spec;  ``plugins.json`` the plugin versions
``environment.json``    versions, devices, the framework's commit, the start time (:mod:`.environment`)
``optimizer.json``      every trainable parameter's name, shape, lr scale and weight decay
``writer.lock``         held by the one process writing the run; ``writer.json`` names it (:mod:`lssat_framework.files.lock`)
``dataset.json``        what the dataset gave (image size, labels, groups): enough to predict
``metrics.jsonl``       one JSON line per epoch: loss terms, task metrics, images/s, step time, peak memory
``summary.json``        written last: final and best metrics, with the headline's interval, the test sets' headlines (a run with it is finished)
``checkpoints/last``    model, optimiser, schedule, average, scaler, random generators and ``trainer_state.json``, no pickle (:mod:`.checkpoints`)
``checkpoints/best``    the same at the best epoch by ``train.best_metric``
``model.safetensors``   the final model;  ``backbone.safetensors`` the backbone under its own names
``recon/epoch_NNN.png`` reconstruction grids; task artifacts (e.g. ``val_confusion.png``)
``cross_dataset.*``     with ``evaluate:`` in the spec: the test sets' table and ROC curves (see :mod:`.cross`)
"""

from __future__ import annotations

import dataclasses
import json
import math
import sys
from pathlib import Path
from typing import Any

from ..errors import LssatError
from ..files.safe import append_line, write_text_atomic
from ..interfaces import DatasetInfo, LabelInfo
from .checkpoints import find_checkpoint, read_state
from .tensor_tree import DamagedStateError, read_json

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


def read_summary(run_dir: Path) -> dict[str, Any]:
    summary = read_json(run_dir / SUMMARY_FILE)
    if not isinstance(summary, dict):
        raise DamagedStateError(f"{run_dir / SUMMARY_FILE}: holds a {type(summary).__name__}, not a run's summary")
    return summary


def read_metrics(path: Path, warn_torn: bool = False) -> list[dict[str, Any]]:
    """The epochs' records. A torn last line (what a full disk or a kill mid-write leaves) is
    dropped, with a warning when ``warn_torn``; a bad line before the last is an error naming it."""
    if not path.exists():
        return []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, ValueError) as error:
        raise DamagedStateError(f"{path}: cannot be read ({error}); the run directory is damaged") from None
    records = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            if not isinstance(record, dict) or not isinstance(record.get("epoch"), int):
                raise ValueError("not an epoch's record")
        except ValueError as error:
            if number == len(lines):
                if warn_torn:
                    print(f"lssat: warning: {path}, line {number}: torn ({error}); dropped, the checkpoint decides where the run is", file=sys.stderr)
                break
            raise DamagedStateError(f"{path}, line {number}: {error}; the run directory is damaged") from None
        records.append(record)
    return records


def append_metrics(path: Path, record: dict[str, Any]) -> None:
    append_line(path, json.dumps(finite(record)))


def truncate_metrics(path: Path, epochs_done: int) -> None:
    """On resume, keep only the lines of epochs that the checkpoint has finished."""
    if path.exists() or path.is_symlink():
        kept = [r for r in read_metrics(path, warn_torn=True) if r["epoch"] <= epochs_done]
        write_text_atomic(path, "".join(json.dumps(r) + "\n" for r in kept))


def dataset_info_json(info: DatasetInfo) -> dict[str, Any]:
    labels = {k: dataclasses.asdict(v) for k, v in info.labels.items()}
    return {"image_size": list(info.image_size), "groups": info.groups, "videos": info.videos, "labels": labels, "preparation": info.preparation}


def read_dataset_info(run_dir: Path) -> DatasetInfo | None:
    path = run_dir / DATASET_FILE
    if not path.is_file():
        return None
    data = read_json(path)
    try:
        labels = {k: LabelInfo(**v) for k, v in data["labels"].items()}
        return DatasetInfo(labels=labels, image_size=tuple(data["image_size"]), groups=data.get("groups", {}), videos=data.get("videos", False),
                           preparation=data.get("preparation"))
    except (KeyError, TypeError, AttributeError, ValueError) as error:
        raise DamagedStateError(f"{path}: not a dataset description ({type(error).__name__}: {error}); the run directory is damaged") from None


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
