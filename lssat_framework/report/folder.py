"""Reading what a sweep or run folder holds, for the report. The folder is untrusted (see
docs/security.md): JSON is read as JSON, per-sample outputs as arrays (never a pickle), images
through the checks every dataset image passes, nothing outside the folder (no link followed);
a file that is missing or damaged is reported as such, never a traceback."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import LssatError
from ..files.safe import resolve_inside, slug
from ..train.environment import ENVIRONMENT_FILE
from ..train.rundir import METRICS_FILE, SPEC_FILE, SUMMARY_FILE, read_metrics
from ..train.tensor_tree import read_json

SWEEP_FILE = "sweep.json"
#: the cross-dataset table and each test set's per-sample outputs (see :mod:`lssat_framework.train.cross`)
CROSS_TABLE, CROSS_OUTPUTS = "cross_dataset.csv", "cross_dataset_predictions"


def inside(root: Path, relative: str) -> Path | None:
    """``root/relative`` where it is a plain file or folder inside ``root`` (no link on the way)."""
    path = resolve_inside(root, relative)
    if path is None:
        return None
    walked = root
    for part in Path(relative).parts:
        walked = walked / part
        if walked.is_symlink():
            return None
    return path if path.exists() else None


def read_json_or_none(path: Path | None) -> Any:
    try:
        return read_json(path) if path is not None and path.is_file() and not path.is_symlink() else None
    except LssatError:
        return None


def read_text(path: Path | None, limit: int = 200_000) -> str | None:
    if path is None or not path.is_file() or path.is_symlink():
        return None
    try:
        return path.read_text(encoding="utf-8", errors="replace")[:limit]
    except OSError:
        return None


def read_csv(path: Path | None) -> list[dict[str, str]]:
    text = read_text(path, limit=20_000_000)
    return list(csv.DictReader(io.StringIO(text))) if text else []


def kind(folder: Path) -> str:
    """``sweep`` (it holds ``sweep.json``) or ``run`` (``spec.yaml``, ``metrics.jsonl`` or
    ``summary.json``); anything else is one clear error."""
    if not folder.is_dir():
        raise LssatError(f"lssat report: {folder} is no folder; name a sweep folder (with {SWEEP_FILE}) or a run folder (with {SPEC_FILE})")
    if (folder / SWEEP_FILE).is_file():
        return "sweep"
    if any((folder / name).is_file() for name in (SPEC_FILE, METRICS_FILE, SUMMARY_FILE)):
        return "run"
    raise LssatError(f"lssat report: {folder} holds neither {SWEEP_FILE} (a sweep folder) nor {SPEC_FILE} (a run folder); "
                     "name the folder that lssat sweep --out or lssat run --out wrote")


@dataclass
class RunFiles:
    """What one run folder holds, read once."""

    folder: Path
    name: str
    summary: dict[str, Any] | None = None
    records: list[dict[str, Any]] = field(default_factory=list)
    spec_text: str | None = None
    environment: dict[str, Any] | None = None
    plugins: dict[str, Any] | None = None
    job: dict[str, Any] | None = None
    cross: list[dict[str, str]] = field(default_factory=list)
    grids: list[Path] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def headline(self) -> str | None:
        return (self.summary or {}).get("headline")

    def cross_outputs(self, test_set: str) -> Path | None:
        return inside(self.folder, f"{CROSS_OUTPUTS}/{slug(test_set)}.npz")


def read_run(folder: Path, name: str | None = None) -> RunFiles:
    run = RunFiles(folder, name or folder.name)
    if not folder.is_dir() or folder.is_symlink():
        run.problems.append("no folder")
        return run
    run.summary = read_json_or_none(inside(folder, SUMMARY_FILE))
    try:
        run.records = read_metrics(folder / METRICS_FILE) if inside(folder, METRICS_FILE) else []
    except LssatError as error:
        run.problems.append(str(error))
    run.spec_text = read_text(inside(folder, SPEC_FILE))
    run.environment = read_json_or_none(inside(folder, ENVIRONMENT_FILE))
    run.plugins = read_json_or_none(inside(folder, "plugins.json"))
    run.job = read_json_or_none(inside(folder, "job.json"))
    run.cross = read_csv(inside(folder, CROSS_TABLE))
    recon = inside(folder, "recon")
    run.grids = sorted(p for p in recon.glob("epoch_*.png") if p.is_file() and not p.is_symlink()) if recon and recon.is_dir() else []
    return run


def read_outputs(path: Path | None) -> dict[str, Any] | None:
    """A test set's per-sample outputs, as arrays only; None where missing or damaged."""
    from ..train.evaluation import read_predictions

    if path is None:
        return None
    try:
        return read_predictions(path)
    except LssatError:
        return None
