"""``train.trackers``: a run logged to the experiment trackers researchers already use, through
accelerate's trackers (TensorBoard, MLflow, Weights & Biases, ...).

Each tracker gets the resolved spec as the run's config (dotted keys), every loss term and the lr
at every optimiser step (``step/loss``, ``step/loss_task``, ``step/lr``, ...), each epoch's record of
``metrics.jsonl`` under its own names (``val_auc``, ``train_loss``, ...) and the epoch's
reconstruction grid, all on one step axis: the optimiser steps. Everything stays inside the run
folder unless the user points a tracker elsewhere: TensorBoard's events in ``tensorboard/``,
MLflow's store in ``mlflow.db`` and ``mlartifacts/`` (``MLFLOW_TRACKING_URI`` wins), W&B's files in ``wandb/``
(``WANDB_MODE=offline`` keeps them there).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from ..errors import LssatError
from ..spec.changes import flatten, resolved_view
from ..spec.resolved import ResolvedSpec

#: the trackers that have an extra of their own: ``pip install 'lssat-framework[mlflow]'``
EXTRAS = ("tensorboard", "mlflow", "wandb")
#: MLflow's store in the run folder (where ``MLFLOW_TRACKING_URI`` names none) and its artifacts
MLFLOW_STORE, MLFLOW_ARTIFACTS = "mlflow.db", "mlartifacts"
#: a tracker's package where it differs from the tracker's name
PACKAGES = {"aim": "aim", "comet_ml": "comet-ml"}


def trackers_of(train) -> list[str]:
    """The trackers a :class:`~lssat_framework.spec.schema.TrainSpec` names; the old
    ``tensorboard: true`` is ``trackers: [tensorboard]``."""
    return list(dict.fromkeys([*train.trackers, *(["tensorboard"] if train.tensorboard else [])]))


def check_installed(names: list[str]) -> None:
    """A tracker whose package is missing is one clear error before anything trains."""
    import accelerate.utils

    for name in names:
        available = getattr(accelerate.utils, f"is_{name}_available", None)
        if available is not None and not available():
            extra = f", or pip install 'lssat-framework[{name}]'" if name in EXTRAS else ""
            raise LssatError(f"train.trackers: {name} needs its package: pip install {PACKAGES.get(name, name)}{extra}")


def accelerator_arguments(train, log_dir: Path | None) -> dict[str, Any]:
    """What :class:`accelerate.Accelerator` takes to log with the spec's trackers (``log_dir``:
    where TensorBoard writes, the run folder's ``tensorboard/``; None: no tracker)."""
    names = trackers_of(train) if log_dir is not None else []
    if not names:
        return {}
    check_installed(names)
    return {"log_with": names, "project_dir": str(log_dir)}


def config(resolved: ResolvedSpec) -> dict[str, Any]:
    """The resolved spec (:func:`~lssat_framework.spec.changes.resolved_view`: every default filled
    in, each component with its params and version) as flat dotted keys with values every tracker
    takes: numbers, text, booleans; lists and nulls as JSON text."""
    view = resolved_view(resolved)
    return {key: value if isinstance(value, (bool, int, float, str)) else json.dumps(value)
            for key, value in flatten({**view["spec"], **view["components"]}).items()}


class Trackers:
    """The run's trackers, started once the run folder is this process's (after the writer lock)."""

    def __init__(self, accelerator, resolved: ResolvedSpec, out_dir: Path):
        self.accelerator, self.out_dir = accelerator, out_dir
        self.names = [str(t) for t in accelerator.log_with] if accelerator.log_with else []
        if not self.names:
            return
        name = resolved.spec.name
        project = name.partition("__")[0]  # a sweep's variants (``study__axis=value``) share their study's project
        if "mlflow" in self.names and not os.environ.get("MLFLOW_TRACKING_URI"):
            import mlflow

            mlflow.set_tracking_uri(f"sqlite:///{(out_dir / MLFLOW_STORE).resolve()}")  # MLflow's local store
        artifacts = (out_dir / MLFLOW_ARTIFACTS).resolve().as_uri()
        options = {"wandb": {"name": name, "dir": str(out_dir)}, "mlflow": {"run_name": name, "logging_dir": artifacts}}
        try:
            accelerator.init_trackers(project, config=config(resolved), init_kwargs=options)
        except Exception as error:  # a tracker's own failure (not logged in, no server): say which and how
            raise LssatError(f"train.trackers: {self.names} could not start ({type(error).__name__}: {error}); "
                             "for W&B without an account set WANDB_MODE=offline, for MLflow check MLFLOW_TRACKING_URI") from error
        if "wandb" in self.names and accelerator.is_main_process:
            _unlink_links(out_dir / "wandb")

    def finish(self) -> None:
        """End the run's trackers. Not accelerate's ``end_training``: it also destroys the process
        group, which is the launch's (a sweep's next variant trains in it; ``leave_process_group``)."""
        for tracker in self.accelerator.trackers:
            tracker.finish()

    def log_step(self, terms: dict[str, float], step: int, lr: float) -> None:
        if self.names:
            self.accelerator.log({**{f"step/{key}": value for key, value in terms.items()}, "step/lr": lr}, step=step)

    def log_epoch(self, record: dict[str, Any]) -> None:
        """An epoch's record of ``metrics.jsonl`` and, where the run drew it, its reconstruction grid."""
        if not self.names:
            return
        self.accelerator.log({k: v for k, v in record.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}, step=record["step"])
        grid = self.out_dir / "recon" / f"epoch_{record['epoch']:03d}.png"
        if self.accelerator.is_main_process and grid.is_file():
            self._log_picture(grid, record["step"])

    def _log_picture(self, path: Path, step: int) -> None:
        import numpy as np
        from PIL import Image

        with Image.open(path) as image:
            picture = np.asarray(image.convert("RGB"))
        for tracker in self.accelerator.trackers:
            if tracker.name == "tensorboard":
                tracker.log_images({"reconstruction": picture[None]}, step=step, dataformats="NHWC")
            elif tracker.name == "mlflow":
                import mlflow

                mlflow.log_image(picture, key="reconstruction", step=step)
            elif hasattr(tracker, "log_images"):
                tracker.log_images({"reconstruction": [picture]}, step=step)


def _unlink_links(folder: Path) -> None:
    """W&B links its latest run and its logs (one into the user's cache); the framework never leaves
    a link in a run folder (a resume refuses one), and the files they point to stay."""
    for path in folder.rglob("*") if folder.is_dir() else ():
        if path.is_symlink():
            path.unlink(missing_ok=True)
