"""What ``lssat predict --out DIR`` writes: ``predictions.csv`` (one row per input and face
track), ``frames.csv`` (one row per scored frame) and one PNG per video, each written whole under
a temporary name and renamed, after every input was answered: until then the old ones stay."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from ..files.safe import slug, write_bytes_atomic, write_text_atomic
from .answers import Answer
from .inputs import printable, shown

PREDICTIONS_FILE, FRAMES_FILE = "predictions.csv", "frames.csv"
#: the columns every row of predictions.csv has, before and after the task's
LEADING = ["path", "kind", "status", "track", "frames_scored", "frames_with_face"]
TRAILING = ["low", "high", "threshold", "verdict", "warning"]


def input_row(answer: Answer, task_columns: list[str]) -> dict[str, Any]:
    row = {"path": shown(answer.path), "kind": answer.kind, "status": answer.status, "track": answer.track,
           "frames_scored": len(answer.frames), "frames_with_face": answer.faces, "warning": answer.warning}
    return {**{c: None for c in task_columns}, **row, **answer.summary}


def csv_text(rows: list[dict[str, Any]], columns: list[str]) -> str:
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    writer.writerows({key: printable(value) for key, value in row.items()} for row in rows)
    return text.getvalue()


def as_json(answers: list[Answer], task_columns: list[str], about: dict[str, Any]) -> str:
    """Every answer with its frames, for machine use."""
    inputs = [{**{k: printable(v) for k, v in input_row(a, task_columns).items()}, "frames": a.frames} for a in answers]
    return json.dumps({**about, "inputs": inputs}, indent=1, allow_nan=False, default=str)


def picture_names(answers: list[Answer]) -> dict[int, str]:
    """A PNG name per scored video answer (by its position), unique in the folder."""
    names: dict[int, str] = {}
    taken: set[str] = set()
    for position, answer in enumerate(answers):
        if answer.kind != "video" or not answer.frames:
            continue
        base = slug(shown(answer.path.stem)) + (f"-track{answer.track}" if answer.track else "")
        name, count = f"{base}.png", 1
        while name in taken:
            count += 1
            name = f"{base}-{count}.png"
        taken.add(name)
        names[position] = name
    return names


def write_outputs(out: Path, answers: list[Answer], task_columns: list[str], pictures: dict[str, bytes]) -> None:
    """The PNGs, then ``frames.csv``, then ``predictions.csv``: each whole or not at all."""
    out.mkdir(parents=True, exist_ok=True)
    for name, data in pictures.items():
        write_bytes_atomic(out / name, data)
    frames = [{"path": shown(a.path), **row} for a in answers for row in a.frames]
    frame_columns = ["path", "track", "frame", "time", "face_found", "top", "left", "height", "width", *task_columns]
    write_text_atomic(out / FRAMES_FILE, csv_text(frames, frame_columns))
    rows = [input_row(a, task_columns) for a in answers]
    write_text_atomic(out / PREDICTIONS_FILE, csv_text(rows, [*LEADING, *task_columns, *TRAILING]))
