"""Extracting face frames from many videos: one video at a time per worker process, each with its
own detector; resumable; one record per video for the preparation report.

A video's frames go to one folder (see :func:`frames_folder`), written to temporary files and
renamed, then a ``.done.json`` marker records what was asked and found, so a later run skips the
video. A video that cannot be read leaves nothing behind; one that stops early (truncated) keeps
the frames that decoded, gets no marker (it is tried again next time) and counts as failed.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import time
from collections import deque
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Generator, Iterator

from lssat_framework.errors import DataError

#: written into a video's frame folder once all its frames are
DONE_MARKER = ".done.json"


@dataclass(frozen=True)
class Settings:
    """What every video is extracted with."""

    frames: int
    size: int
    #: the detector's factory and its validated params: each worker builds its own
    detector_factory: Callable[..., Any]
    detector_params: dict[str, Any] = field(default_factory=dict)
    enlarge: float = 1.3
    #: videos whose share of sampled frames with a face is below this are dropped
    min_face_rate: float = 0.0


def frames_folder(video: Path) -> Path:
    """Where a video's frames go: ``<...>/images/<name>/`` beside a ``videos/`` folder (the
    FaceForensics++ layout), else ``<folder>/frames/<name>/`` beside the video (DeepfakeBench's)."""
    if video.parent.name == "videos":
        return video.parent.parent / "images" / video.stem
    return video.parent / "frames" / video.stem


def read_marker(out: Path) -> dict[str, Any] | None:
    try:
        record = json.loads((out / DONE_MARKER).read_text())
        return record if isinstance(record, dict) else None
    except (OSError, ValueError):
        return None


def is_done(out: Path, frames: int, min_face_rate: float = 0.0) -> bool:
    """Whether ``out`` holds a finished extraction of ``frames`` frames (or of the whole video,
    when it has fewer); a video dropped for too few faces is done unless the rate asked is lower now."""
    marker = out / DONE_MARKER
    if not marker.is_file():  # folders extracted before markers existed count by their frames
        return out.is_dir() and len(list(out.glob("*.png"))) >= frames
    record = read_marker(out)
    try:
        enough = record["frames"] >= frames or record["written"] >= record["video_frames"]
        if record.get("dropped"):
            return enough and face_rate(record) < min_face_rate
        return enough
    except (KeyError, TypeError):
        return False


def face_rate(record: dict[str, Any]) -> float:
    """The share of a video's sampled frames whose face was found."""
    sampled = record.get("sampled", record.get("written", 0))
    return record.get("faces", 0) / sampled if sampled else 0.0


def _write_json(path: Path, record: dict[str, Any]) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(record, indent=1))
    os.replace(tmp, path)


def _clear_frames(out: Path) -> None:
    """Remove a stopped run's frames (picked for another count) and its half-written files."""
    for stale in [*out.glob("*.png"), *out.glob(".*.tmp")]:
        stale.unlink()


def extract(video: Path, out: Path, settings: Settings, cropper) -> dict[str, Any]:
    """Extract one video; the record of what happened (never raises for a bad video)."""
    from PIL import Image

    from .video import sample_frames

    record: dict[str, Any] = {"status": "failed", "frames": settings.frames, "written": 0, "faces": 0, "video_frames": 0}
    try:
        sampled = sample_frames(video, settings.frames)  # before the folder exists: a failure leaves none
    except DataError as exc:
        return {**record, "error": str(exc)}
    crops, found = cropper.boxes(sampled.frames)
    record.update(sampled=len(sampled.frames), faces=sum(found), video_frames=sampled.video_frames)
    out.mkdir(parents=True, exist_ok=True)
    _clear_frames(out)
    if face_rate(record) < settings.min_face_rate:
        record.update(status="dropped", dropped=True)
        _write_json(out / DONE_MARKER, record)
        return record
    for index, (frame, (top, left, side)) in enumerate(zip(sampled.frames, crops)):
        face = Image.fromarray(frame[top : top + side, left : left + side]).resize((settings.size, settings.size), Image.BILINEAR)
        tmp = out / f".{index:04d}.png.tmp"
        face.save(tmp, format="PNG")
        os.replace(tmp, out / f"{index:04d}.png")
    record["written"] = len(sampled.frames)
    if sampled.error:
        (out / DONE_MARKER).unlink(missing_ok=True)
        return {**record, "status": "truncated", "error": sampled.error}
    record["status"] = "extracted"
    _write_json(out / DONE_MARKER, record)
    return record


def drop(out: Path, record: dict[str, Any]) -> dict[str, Any]:
    """Drop a finished video whose face rate is below the one asked now: its frames go, its
    marker says so (a lower rate asked later extracts it again)."""
    _clear_frames(out)
    record = {**record, "status": "dropped", "dropped": True, "written": 0}
    _write_json(out / DONE_MARKER, record)
    return record


# ------------------------------------------------------------ worker processes
_cropper = None


def start_worker(settings: Settings, threads: int | None = None) -> None:
    """A worker's initializer: its own detector, built once (detectors are not shared across
    processes). ``threads``: the OpenMP threads it may use (the cascade searches in parallel), so
    that N workers do not each start one thread per core."""
    from .faces import FaceCropper

    if threads is not None:
        os.environ.setdefault("OMP_NUM_THREADS", str(threads))  # read when the detector's library loads
    global _cropper
    _cropper = FaceCropper(settings.detector_factory(**settings.detector_params), settings.enlarge)


def _failed(settings: Settings, error: str) -> dict[str, Any]:
    return {"status": "failed", "frames": settings.frames, "written": 0, "faces": 0, "video_frames": 0, "error": error}


def work(video: Path, out: Path, settings: Settings) -> dict[str, Any]:
    try:
        return extract(video, out, settings, _cropper)
    except Exception as exc:  # anything else one video raises is that video's failure, not the run's
        return _failed(settings, f"{type(exc).__name__}: {exc}")


Job = tuple[Path, Path]


def run_jobs(jobs: list[Job], settings: Settings, workers: int) -> Iterator[tuple[Path, dict[str, Any]]]:
    """(video, record) of every job, as they finish: in this process for one worker, else in a
    pool of spawned processes (safe wherever fork is not). A worker that dies (a crash in the
    decoder or the detector) takes its pool down: the videos then in flight are run again one by
    one, each in a pool of its own, so that only the one that kills its worker again fails."""
    if workers <= 1 or len(jobs) <= 1:
        start_worker(settings)
        for video, out in jobs:
            yield video, work(video, out, settings)
        return
    queue = deque(jobs)
    while queue:
        in_flight = yield from _pool_run(queue, settings, workers)
        for job in in_flight:
            if (yield from _pool_run(deque([job]), settings, 1)):
                yield job[0], _failed(settings, "the worker process died on this video (a crash in the decoder or the detector)")


def _pool_run(queue: deque[Job], settings: Settings, processes: int) -> Generator[tuple[Path, dict[str, Any]], None, list[Job]]:
    """Run the queued jobs in one pool, at most two per process in flight, yielding their results;
    returns the jobs in flight when a worker died (the rest stay queued), else none."""
    processes = min(processes, len(queue))
    threads = max(1, (os.cpu_count() or 1) // processes)
    pool = ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("spawn"), initializer=start_worker, initargs=(settings, threads))
    futures: dict[Any, Job] = {}
    try:
        while queue or futures:
            while queue and len(futures) < 2 * processes:
                job = queue.popleft()
                futures[pool.submit(work, *job, settings)] = job
            done, _ = wait(futures, return_when=FIRST_COMPLETED)
            for future in done:
                record = future.result()  # raises for every job in flight when a worker died
                yield futures.pop(future)[0], record
    except BrokenProcessPool:
        pool.shutdown(wait=False, cancel_futures=True)
        return list(futures.values())
    except BaseException:  # Ctrl-C or the caller stopped: the queued videos are not started
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()
    return []


class Progress:
    """A bar over videos that shows frames written per second."""

    def __init__(self, total: int, desc: str):
        from tqdm.auto import tqdm

        self.bar = tqdm(total=total, desc=desc, unit="video")
        self.start, self.frames = time.monotonic(), 0

    def update(self, record: dict[str, Any]) -> None:
        self.frames += record.get("written", 0)
        rate = self.frames / max(time.monotonic() - self.start, 1e-9)
        self.bar.set_postfix_str(f"{rate:.1f} frames/s", refresh=False)
        self.bar.update(1)

    def close(self) -> None:
        self.bar.close()


def record_fields(record: dict[str, Any]) -> dict[str, Any]:
    """What the report keeps of a video's record."""
    keys = ("status", "written", "faces", "sampled", "video_frames", "error")
    return {key: record[key] for key in keys if key in record}


@dataclass
class Report:
    """Per video: status, frames written, frames whose face was found; and the lists that need a look."""

    dataset: str
    root: str
    settings: dict[str, Any]
    videos: dict[str, dict[str, Any]] = field(default_factory=dict)

    def add(self, name: str, record: dict[str, Any]) -> None:
        self.videos[name] = record_fields(record)

    def of(self, status: str) -> list[str]:
        return sorted(name for name, record in self.videos.items() if record["status"] == status)

    @property
    def no_face(self) -> list[str]:
        return sorted(name for name, r in self.videos.items() if r.get("sampled", r["written"]) and not r["faces"])

    @property
    def failed(self) -> dict[str, str]:
        return {name: r.get("error", "") for name, r in sorted(self.videos.items()) if r["status"] in ("failed", "truncated")}

    def summary(self) -> dict[str, Any]:
        counts = {status: len(self.of(status)) for status in ("extracted", "done", "failed", "truncated", "dropped")}
        sampled = sum(r.get("sampled", r["written"]) for r in self.videos.values())
        faces = sum(r["faces"] for r in self.videos.values())
        return {"videos": len(self.videos), **counts, "frames_written": sum(r["written"] for r in self.videos.values()),
                "frames_sampled": sampled, "frames_with_face": faces, "no_face": len(self.no_face)}

    def write(self, path: Path) -> None:
        record = {**asdict(self), "summary": self.summary(), "no_face": self.no_face, "dropped": self.of("dropped"), "failed": self.failed}
        _write_json(path, record)

    def line(self, path: Path) -> str:
        s = self.summary()
        parts = [f"prepare {self.dataset}: {s['extracted']} videos extracted, {s['done']} already done",
                 f"faces found in {s['frames_with_face']} of {s['frames_sampled']} frames", f"{s['no_face']} videos with no face"]
        if s["dropped"]:
            parts.append(f"{s['dropped']} dropped below --min-face-rate")
        if self.failed:
            parts.append(f"{len(self.failed)} failed")
        return "; ".join(parts) + f" (report: {path})"
