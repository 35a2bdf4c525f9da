"""One file's answers: its faces found by the face reader, scored in batches frame by frame, and
per face track the answer for the whole file: the score the run's evaluation gives a video (its
frames' mean, :func:`~lssat_framework.train.evaluation.video_scores`), a bootstrap interval over
the frames, the frames with a face, and a verdict at the threshold."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch

from ..errors import DataError
from ..interfaces import FaceCrop, FaceReader
from ..train.evaluation import video_scores
from .loaded import LoadedRun

#: the faces shown in a video's picture, and their side in pixels
STRIP_FACES, STRIP_SIDE = 8, 96
INTERVAL_RESAMPLES, INTERVAL_LEVEL = 1000, 0.95


@dataclass
class Answer:
    """The answer for one file (one face track of it)."""

    path: Path
    kind: str
    status: str  # "scored", "no_face", "unreadable: ..."
    track: int = 0
    #: the per-frame rows (frames.csv)
    frames: list[dict[str, Any]] = field(default_factory=list)
    #: the task's columns for the whole file, the verdict and the interval
    summary: dict[str, Any] = field(default_factory=dict)
    faces: int = 0
    warning: str | None = None
    #: per frame: time (or index), positive score or the task's scores
    curve: list[tuple[float, Any]] = field(default_factory=list)
    #: small face crops and their scores, for the picture
    strip: list[tuple[np.ndarray, Any]] = field(default_factory=list)


def frame_interval(values: torch.Tensor, seed: int = 0) -> dict[str, float] | None:
    """The percentile bootstrap interval of the frames' mean score (frames drawn with
    replacement, as a run's bootstrap draws: :mod:`lssat_framework.train.resampling`); None for
    fewer than two frames."""
    from ..train.resampling import MeanMetric, metric_draws

    frames = len(values)
    if frames < 2:
        return None
    mean = MeanMetric(values.double().numpy(), np.arange(frames), frames)
    draws, = metric_draws([mean], frames, frames, INTERVAL_RESAMPLES, np.random.default_rng(seed))
    tail = (1 - INTERVAL_LEVEL) / 2
    low, high = np.quantile(draws, [tail, 1 - tail])
    return {"low": round(float(low), 6), "high": round(float(high), 6)}


def thumbnail(image: np.ndarray) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.fromarray(image).resize((STRIP_SIDE, STRIP_SIDE), Image.BILINEAR))


def frame_row(crop: FaceCrop, row: dict[str, Any]) -> dict[str, Any]:
    box = crop.box or (None,) * 4
    time = None if crop.time is None else round(float(crop.time), 4)
    return {"track": crop.track, "frame": crop.frame, "time": time, "face_found": crop.box is not None,
            **{k: (None if v is None else round(float(v), 1)) for k, v in zip(("top", "left", "height", "width"), box)}, **row}


class FileScorer:
    """Scores the crops of one file in batches of the run's evaluation size."""

    def __init__(self, run: LoadedRun, on_frame: Callable[[], None] = lambda: None):
        self.run, self.on_frame = run, on_frame
        self.crops: list[FaceCrop] = []
        self.pending: list[FaceCrop] = []
        self.scores: list[torch.Tensor] = []
        self.thumbs: list[np.ndarray] = []

    def add(self, crop: FaceCrop) -> None:
        self.pending.append(crop)
        if len(self.pending) >= self.run.batch_size:
            self.flush()

    def flush(self) -> None:
        if self.pending:
            self.scores.append(self.run.scores([c.image for c in self.pending]))
            self.thumbs += [thumbnail(c.image) for c in self.pending]
            for crop in self.pending:  # the crop's pixels go: only the sampled frames' thumbnails stay
                self.crops.append(FaceCrop(None, crop.frame, crop.time, crop.box, crop.track))
                self.on_frame()
            self.pending = []


def answer_file(run: LoadedRun, reader: FaceReader, path: Path, settings: dict[str, Any], threshold: float,
                all_faces: bool = False, on_frame: Callable[[], None] = lambda: None) -> list[Answer]:
    """The answers for one file: one per face track (the largest only unless ``all_faces``);
    a file that cannot be read answers with its status, never raises."""
    kind = "video"
    scorer = FileScorer(run, on_frame)
    try:
        read = reader.read(path, settings, all_faces=all_faces)
        kind = read.kind
        for crop in read.crops:
            scorer.add(crop)
        scorer.flush()
    except DataError as exc:
        return [Answer(path, kind, f"unreadable: {exc}")]
    if not scorer.crops:
        return [Answer(path, kind, "no_face", warning=read.warning)]
    scores = torch.cat(scorer.scores)
    tracks = torch.tensor([c.track for c in scorer.crops])
    ids, means = video_scores(scores, tracks)
    return [track_answer(run, path, read, scorer, scores, tracks == track, mean, threshold) for track, mean in zip(ids.tolist(), means)]


def track_answer(run: LoadedRun, path: Path, read, scorer: FileScorer, scores: torch.Tensor, mine: torch.Tensor,
                 mean: torch.Tensor, threshold: float) -> Answer:
    """One face track's answer: its frames' rows, and the whole file's score where a face was found."""
    task, names = run.task, run.class_names
    index = torch.nonzero(mine).flatten().tolist()
    crops = [scorer.crops[i] for i in index]
    answer = Answer(path, read.kind, "scored", crops[0].track, warning=read.warning)
    answer.frames = [frame_row(scorer.crops[i], task.prediction_row(scores[i])) for i in index]
    answer.faces = sum(c.box is not None for c in crops)
    positive = scores[index] if names is not None and scores.dim() == 1 else None
    answer.curve = [(c.time if c.time is not None else c.frame, float(scores[i]) if positive is not None else scores[i].tolist())
                    for c, i in zip(crops, index)]
    step = max(1, len(index) / STRIP_FACES)
    shown = sorted({index[int(k * step)] for k in range(min(STRIP_FACES, len(index)))})
    answer.strip = [(scorer.thumbs[i], answer.curve[index.index(i)][1]) for i in shown]
    if positive is not None and "label" in task.prediction_columns():  # each frame's label at the threshold too
        for row, value in zip(answer.frames, positive.tolist()):
            row["label"] = names[int(value >= threshold)]
    if not answer.faces:
        answer.status = "no_face"
        return answer
    answer.summary = task.prediction_row(mean.float())
    if positive is not None:
        score = float(mean)
        verdict = names[int(score >= threshold)]
        answer.summary.update(label=verdict, **(frame_interval(positive) or {}), threshold=threshold,
                              verdict=f"{verdict} (score {score:.3f} {'≥' if score >= threshold else '<'} threshold {threshold:g})")
    return answer
