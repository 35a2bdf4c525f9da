"""Extracting the face frames of one video, and knowing when a video is done.

A video's frames go to one folder (see :func:`frames_folder`), written to temporary files and
renamed, then a ``.done.json`` marker records what was asked (every setting, :meth:`Settings.record`)
and found. A video is done only when its marker exists and records the settings asked now; any
other folder (no marker: a run stopped in it; other settings) is cleared and extracted again. A
video that cannot be read leaves nothing behind; one that stops early (truncated) keeps the frames
that decoded, gets no marker (it is tried again next time) and counts as failed.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from lssat_framework.errors import DataError
from lssat_framework.files.safe import write_text_atomic

from .facepath import FaceFinder, FaceSettings
from .params import DEFAULT_DETECTOR

#: written into a video's frame folder once all its frames are
DONE_MARKER = ".done.json"


@dataclass(frozen=True)
class Settings:
    """What every video is extracted with: the face settings as data, and the detector's and
    landmarker's factories, resolved once so that each worker builds its own."""

    frames: int
    size: int
    detector_factory: Callable[..., Any]
    detector_params: dict[str, Any] = field(default_factory=dict)
    #: the crop's side over the face's (see :class:`FaceSettings`)
    enlarge: float = 1.3
    #: videos whose share of sampled frames with a face is below this are dropped
    min_face_rate: float = 0.0
    #: the detector's registered name, recorded
    detector: str = DEFAULT_DETECTOR
    align: bool = False
    landmarker: str | None = None
    landmarker_factory: Callable[..., Any] | None = None
    landmarker_params: dict[str, Any] = field(default_factory=dict)
    sampling: str = "spans"
    layout: str = "lssat"
    profile: str | None = None

    @property
    def face(self) -> FaceSettings:
        return FaceSettings(self.detector, dict(self.detector_params), self.align, self.landmarker if self.align else None,
                            dict(self.landmarker_params) if self.align else {}, self.enlarge, self.size)

    def record(self) -> dict[str, Any]:
        """Every setting that shapes the frames written: a video prepared otherwise is redone."""
        return {"profile": self.profile, "frames": self.frames, "sampling": self.sampling, "layout": self.layout, **self.face.record()}

    def finder(self) -> FaceFinder:
        landmarker = self.landmarker_factory(**self.landmarker_params) if self.align and self.landmarker_factory else None
        return FaceFinder(self.face, self.detector_factory(**self.detector_params), landmarker)


def frames_folder(video: Path, layout: str = "lssat") -> Path:
    """Where a video's frames go: ``<...>/images/<name>/`` beside a ``videos/`` folder (the
    FaceForensics++ layout; ``frames/`` in DeepfakeBench's layout), else ``<folder>/frames/<name>/``
    beside the video (DeepfakeBench's)."""
    if video.parent.name == "videos":
        return video.parent.parent / ("frames" if layout == "deepfakebench" else "images") / video.stem
    return video.parent / "frames" / video.stem


def frame_name(position: int, index: int, layout: str) -> str:
    """A frame's file name: its position among the kept frames (``0003.png``), or in
    DeepfakeBench's layout its index in the video (``120.png``)."""
    return f"{index:03d}.png" if layout == "deepfakebench" else f"{position:04d}.png"


def read_marker(out: Path) -> dict[str, Any] | None:
    try:
        record = json.loads((out / DONE_MARKER).read_text())
        return record if isinstance(record, dict) else None
    except (OSError, ValueError):
        return None


def is_done(out: Path, settings: Settings) -> bool:
    """Whether ``out`` holds a finished extraction with these settings; a video dropped for too
    few faces is done unless the rate asked is lower now."""
    record = read_marker(out)
    if record is None or record.get("settings") != settings.record():
        return False
    if record.get("dropped"):
        return face_rate(record) < settings.min_face_rate
    return True


def face_rate(record: dict[str, Any]) -> float:
    """The share of a video's sampled frames whose face was found."""
    sampled = record.get("sampled", record.get("written", 0))
    return record.get("faces", 0) / sampled if sampled else 0.0


def write_json(path: Path, record: dict[str, Any]) -> None:
    """A marker or report written whole, never through a link (the dataset's folders are the user's, maybe another's)."""
    write_text_atomic(path, json.dumps(record, indent=1))


def clear_frames(out: Path) -> None:
    """Remove the frames of a stopped or other run, its half-written files and its marker."""
    for stale in [*out.glob("*.png"), *out.glob(".*.tmp")]:
        stale.unlink()
    (out / DONE_MARKER).unlink(missing_ok=True)


def extract(video: Path, out: Path, settings: Settings, finder: FaceFinder) -> dict[str, Any]:
    """Extract one video; the record of what happened (never raises for a bad video)."""
    from PIL import Image

    from .video import sample_frames

    record: dict[str, Any] = {"status": "failed", "frames": settings.frames, "written": 0, "faces": 0, "video_frames": 0}
    try:
        sampled = sample_frames(video, settings.frames, settings.sampling)  # before the folder exists: a failure leaves none
    except DataError as exc:
        return {**record, "error": str(exc)}
    plan = finder.plan(sampled.frames, finder.faces(sampled.frames))
    record.update(sampled=len(sampled.frames), faces=sum(plan.found), video_frames=sampled.video_frames,
                  tracks=len(set(plan.tracks)), crop_scale_spread=plan.crop_scale_spread(settings.size), settings=settings.record())
    out.mkdir(parents=True, exist_ok=True)
    clear_frames(out)
    if face_rate(record) < settings.min_face_rate:
        record.update(status="dropped", dropped=True)
        write_json(out / DONE_MARKER, record)
        return record
    for position, (frame, crop, index) in enumerate(zip(sampled.frames, plan.crops, sampled.indices)):
        name = frame_name(position, index, settings.layout)
        tmp = out / f".{name}.tmp"
        Image.fromarray(finder.crop(frame, crop)).save(tmp, format="PNG")
        os.replace(tmp, out / name)
    record["written"] = len(sampled.frames)
    if sampled.error:
        return {**record, "status": "truncated", "error": sampled.error}
    record["status"] = "extracted"
    write_json(out / DONE_MARKER, record)
    return record


def drop(out: Path, record: dict[str, Any]) -> dict[str, Any]:
    """Drop a finished video whose face rate is below the one asked now: its frames go, its
    marker says so (a lower rate asked later extracts it again)."""
    clear_frames(out)
    record = {**record, "status": "dropped", "dropped": True, "written": 0}
    write_json(out / DONE_MARKER, record)
    return record
