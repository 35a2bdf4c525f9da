"""``lssat predict IMAGES --checkpoint RUN``: whole images scored as they are, no face found (the
command as it was before it found faces: for images that are already face crops)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import torch

from ..errors import LssatError
from ..files.safe import write_text_atomic
from ..images import find_images, load_image
from .loaded import load_run


def predict_whole_images(checkpoint: str | Path, images: list[str | Path], out_csv: str | Path) -> int:
    """Scores of the task head for image files, one CSV row per image: ``path`` then the task's
    :meth:`~lssat_framework.interfaces.Task.prediction_columns`; the CSV written whole at the end."""
    run = load_run(checkpoint)
    paths = find_images(images)
    if not paths:
        raise LssatError("predict: no image files given")
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=["path", *run.task.prediction_columns()])
    writer.writeheader()
    for start in range(0, len(paths), run.batch_size):
        chunk = paths[start : start + run.batch_size]
        batch = torch.stack([load_image(p, run.image_size) for p in chunk])
        with torch.no_grad():
            logits, _ = run.model(batch, ssl=False)
            scores = run.task.scores(logits.float())
        for path, score in zip(chunk, scores):
            writer.writerow({"path": str(path), **run.task.prediction_row(score)})
    write_text_atomic(Path(out_csv), text.getvalue())
    return len(paths)
