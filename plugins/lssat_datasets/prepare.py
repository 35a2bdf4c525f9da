"""``lssat prepare ffpp|dfd|celebdf|dfdc ROOT``: extract face frames from a video dataset.

For every video of the dataset's official layout, N frames evenly spaced over its duration are
decoded as a stream and turned upright (``video.py``), the face is found by the chosen detector
(``faces.py``; boxes smoothed over the video's frames), cropped, resized and written to the
video's frame folder (``extract.frames_folder``). ``--workers`` processes share the videos, each
with its own detector. ``ROOT/prepare_report.json`` records, per video, the frames written and
those whose face was found, the videos with no face, those dropped by ``--min-face-rate`` and
those that failed; a failed video never stops the others, and the command exits with status 1
at the end when any failed.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from lssat_framework.errors import DataError
from lssat_framework.files.safe import UnsafePathError

from .extract import Progress, Report, Settings, drop, face_rate, frames_folder, is_done, read_marker, run_jobs
from .faces import FaceCropper, detector_component
from .params import DEFAULT_DETECTOR
from .rows import within

__all__ = ["FaceCropper", "prepare", "find_videos"]

REPORT_FILE = "prepare_report.json"
EXIT_SOME_FAILED = 1


def _videos_in(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("*.mp4") if not p.name.startswith(".")) if folder.is_dir() else []


def find_videos(root: Path, compression: str, methods: list[str]) -> list[Path]:
    """FaceForensics++: the real videos and those of ``methods``."""
    bases = [root / "original_sequences" / "youtube" / compression] + [root / "manipulated_sequences" / m / compression for m in methods]
    return [video for base in bases for video in _videos_in(base / "videos")]


def dfd_videos(root: Path, compression: str) -> list[Path]:
    """DeepFakeDetection in FaceForensics++'s tree: the actors' videos and their fakes."""
    bases = [root / "original_sequences" / "actors" / compression, root / "manipulated_sequences" / "DeepFakeDetection" / compression]
    return [video for base in bases for video in _videos_in(base / "videos")]


def celebdf_videos(root: Path, test_only: bool) -> list[Path]:
    """Celeb-DF v2: every video of its three folders, or those of ``List_of_testing_videos.txt``."""
    from .celebdf import FOLDERS, testing_videos

    if test_only:
        return [root / relative for relative, _ in testing_videos(root)]
    return [video for folder in FOLDERS for video in _videos_in(root / folder)]


def dfdc_videos(root: Path, test_only: bool) -> list[Path]:
    """DFDC: the public test set's videos, and unless ``test_only`` those of every training part."""
    from .dfdc import test_folder, train_parts

    videos = [] if test_only else [video for part in train_parts(root) for video in _videos_in(part)]
    test = test_folder(root)
    if test is not None:
        videos += _videos_in(test / "videos") or _videos_in(test)
    return videos


def _where_videos_belong(dataset: str, root: Path, args) -> str:
    if dataset == "ffpp":
        return f"{root / 'original_sequences/youtube' / args.compression / 'videos'}/*.mp4 or {root / 'manipulated_sequences/<Method>' / args.compression / 'videos'}/*.mp4"
    if dataset == "dfd":
        return f"{root / 'original_sequences/actors' / args.compression / 'videos'}/*.mp4 or {root / 'manipulated_sequences/DeepFakeDetection' / args.compression / 'videos'}/*.mp4"
    if dataset == "celebdf":
        return f"{root / 'Celeb-real'}/*.mp4, {root / 'YouTube-real'}/*.mp4 or {root / 'Celeb-synthesis'}/*.mp4"
    return f"{root / 'dfdc_train_part_<k>'}/*.mp4 (or under {root / 'train'}) or {root / 'test/videos'}/*.mp4"


def list_videos(dataset: str, root: Path, args) -> list[Path]:
    if dataset == "ffpp":
        videos = find_videos(root, args.compression, list(args.methods))
    elif dataset == "dfd":
        videos = dfd_videos(root, args.compression)
    elif dataset == "celebdf":
        videos = celebdf_videos(root, args.test_only)
    else:
        videos = dfdc_videos(root, args.test_only)
    if not videos:
        raise DataError(f"prepare {dataset}: no videos found; expected {_where_videos_belong(dataset, root, args)}")
    return videos


def default_workers() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def check_inside(root: Path, videos: list[Path]) -> None:
    """Refuse, before anything is written, a video whose frame folder (written, and cleared of its
    ``*.png``) would not lie inside ``root``: the lists that name videos are checked as they are
    read; this guards every caller of :func:`prepare`."""
    for video in videos:
        out = frames_folder(video)
        if within(root, os.path.abspath(out)) is None:
            raise UnsafePathError(f"prepare: refusing to write the frames of {video} to {out}, which is not inside {root}")


def prepare(dataset: str, root: Path, videos: list[Path], settings: Settings, workers: int, detector: str = DEFAULT_DETECTOR) -> Report:
    """Extract every video not done yet; write and return the report."""
    report = Report(dataset, str(root), {"frames": settings.frames, "size": settings.size, "detector": detector, "min_face_rate": settings.min_face_rate})
    check_inside(root, videos)
    names = {video: str(video.relative_to(root)) if video.is_relative_to(root) else str(video) for video in videos}
    jobs = []
    for video in videos:
        out = frames_folder(video)
        if not is_done(out, settings.frames, settings.min_face_rate):
            jobs.append((video, out))
            continue
        record = read_marker(out) or {"written": len(list(out.glob("*.png"))), "faces": 0, "sampled": 0, "video_frames": 0}
        if not record.get("dropped") and record.get("sampled") and face_rate(record) < settings.min_face_rate:
            record = drop(out, record)
        report.add(names[video], {**record, "status": "dropped" if record.get("dropped") else "done"})
    progress = Progress(len(jobs), f"prepare {dataset}")
    try:
        for video, record in run_jobs(jobs, settings, workers):
            report.add(names[video], record)
            progress.update(record)
    finally:
        progress.close()
    return report


# ------------------------------------------------------------------ the command (its parser: commands.py)
def detector_params(component, pairs: list[str]) -> dict:
    """The detector's params from ``--detector-param KEY=VALUE``, validated by its params model."""
    import yaml
    from pydantic import ValidationError

    given = {}
    for pair in pairs:
        key, equals, value = pair.partition("=")
        if not equals or not key:
            raise DataError(f"--detector-param: expected KEY=VALUE, got {pair!r}")
        given[key.strip()] = yaml.safe_load(value)
    try:
        return component.validate(given)
    except (ValidationError, TypeError) as exc:
        fields = ", ".join(component.params_model.model_fields) if component.params_model else "none"
        first = str(exc).strip().splitlines()
        detail = " ".join(first[1:3]) if isinstance(exc, ValidationError) else str(exc)
        raise DataError(f"--detector-param for {component.name}: {detail} (its params: {fields})") from None


def run_prepare(args) -> int:
    root = Path(args.root)
    if not root.is_dir():
        raise DataError(f"prepare {args.dataset}: the folder {root} does not exist")
    component = detector_component(args.detector)
    params = detector_params(component, args.detector_param)
    videos = list_videos(args.dataset, root, args)
    factory = component.resolve()  # a lazy reference is imported here; it stays picklable for the workers
    factory(**params)  # a detector that cannot be built (dlib missing) stops here, not in every worker
    settings = Settings(args.frames, args.size, factory, params, min_face_rate=args.min_face_rate)
    report = prepare(args.dataset, root, videos, settings, args.workers or default_workers(), args.detector)
    path = root / REPORT_FILE
    report.write(path)
    print(report.line(path))
    for name, error in report.failed.items():
        print(f"lssat: failed: {name}: {error}", file=sys.stderr)
    return EXIT_SOME_FAILED if report.failed else 0
