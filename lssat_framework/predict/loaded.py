"""A finished run, loaded to answer for new files: its model and task, the size its images had,
the preparation its dataset recorded, and the decision threshold its evaluation used."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..images.reading import resize_square
from ..interfaces import DatasetInfo, Task
from ..model.lssat_model import build
from ..train.rundir import TrainedWeights, find_weights, read_dataset_info
from ..train.trained import load_weights, run_spec, warn_if_trained_unnormalised

#: the threshold of the deepfake task's accuracies (score ≥ 0.5), where a run records no other
DEFAULT_THRESHOLD = 0.5


@dataclass
class LoadedRun:
    weights: TrainedWeights
    model: torch.nn.Module
    task: Task
    info: DatasetInfo
    batch_size: int

    @property
    def image_size(self) -> int:
        return int(self.info.image_size[0])

    @property
    def class_names(self) -> list[str] | None:
        """The two class names (negative, positive) of a binary task; None for other tasks."""
        label = self.info.labels.get(self.task.label)
        return list(label.names) if label is not None and label.kind == "binary" else None

    def threshold(self, given: float | None) -> tuple[float, str]:
        """The decision threshold and where it comes from: ``--threshold``, else 0.5, the one the
        run's evaluation decided its accuracies at."""
        if given is not None:
            return float(given), "--threshold"
        return DEFAULT_THRESHOLD, "the run's evaluation (its accuracies decide at 0.5)"

    @torch.no_grad()
    def scores(self, crops: list[np.ndarray]) -> torch.Tensor:
        """The task's scores of face crops (``H×W×3`` bytes), one batched call, each crop resized
        as the dataset readers resize the crops ``lssat prepare`` wrote."""
        batch = torch.stack([resize_square(torch.from_numpy(np.array(c, dtype=np.uint8)).permute(2, 0, 1), self.image_size) for c in crops])
        logits, _ = self.model(batch, ssl=False)
        return self.task.scores(logits.float())


def load_run(checkpoint: str | Path) -> LoadedRun:
    """The run at ``checkpoint`` (a run folder, checkpoint or weights file inside one), in
    evaluation mode; it needs only the run folder, not the training data."""
    weights = find_weights(checkpoint)
    resolved = run_spec(weights, [])
    warn_if_trained_unnormalised(weights)
    info = read_dataset_info(weights.run_dir)  # runs before dataset.json existed build the dataset
    built = build(resolved, info=info)
    info = info or built.source.info
    load_weights(built.model, weights)
    built.model.eval()
    tspec = resolved.spec.train
    return LoadedRun(weights, built.model, built.task, info, tspec.eval_batch_size or tspec.batch_size)


def say_settings(run: LoadedRun, settings: dict[str, Any]) -> None:
    """Name the preparation used, and say so where the run's dataset recorded none."""
    shown = ", ".join(f"{k}={v}" for k, v in settings.items() if v not in (None, {}, ""))
    if run.info.preparation is None:
        print(f"lssat: warning: {run.weights.run_dir}'s dataset recorded no preparation (its frames were not written by lssat prepare, "
              f"or the run predates the record): faces are found with lssat prepare's defaults ({shown}); give --detector, --align, "
              "--size, --frames or --profile as its frames were prepared", file=sys.stderr)
    else:
        print(f"faces found as the run's dataset was prepared: {shown}", file=sys.stderr)
