"""``lssat prepare ffpp|dfd|celebdf|dfdc ROOT``: extract face frames from a video dataset.

For every video of the dataset's official layout, N frames (evenly over its duration, or at
DeepfakeBench's ``np.linspace``) are decoded as a stream and turned upright (``video.py``); the
face is found, cropped steadily over its track or aligned onto DeepfakeBench's template
(``facepath.py``), and written to the video's frame folder (``extract.frames_folder``).
``--workers`` processes share the videos (``workers.py``), each with its own detector. One
``lssat prepare`` works in a ROOT at a time (a lock, taken over from a holder that died).
``ROOT/prepare_report.json`` records every setting and, per video, the frames written and those
whose face was found, its face tracks and crop-scale spread, the videos with no face, those
dropped by ``--min-face-rate`` and those that failed; a failed video never stops the others, and
the command exits with status 1 at the end when any failed.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from lssat_framework.errors import DataError
from lssat_framework.files.safe import UnsafePathError

from .extract import Settings, drop, face_rate, frames_folder, is_done, read_marker
from .faces import detector_component
from .params import PREPARE_DEFAULTS, PROFILES
from .report import Progress, Report
from .rows import within
from .workers import run_jobs

__all__ = ["prepare", "find_videos", "missing_methods"]

REPORT_FILE = "prepare_report.json"
EXIT_SOME_FAILED = 1


def _videos_in(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("*.mp4") if not p.name.startswith(".")) if folder.is_dir() else []


def find_videos(root: Path, compression: str, methods: list[str]) -> list[Path]:
    """FaceForensics++: the real videos and those of ``methods``."""
    bases = [root / "original_sequences" / "youtube" / compression] + [root / "manipulated_sequences" / m / compression for m in methods]
    return [video for base in bases for video in _videos_in(base / "videos")]


def missing_methods(root: Path, compression: str, methods: list[str]) -> dict[str, str]:
    """The FaceForensics++ methods asked for whose ``videos`` folder holds no video, and where
    their videos were looked for."""
    folders = {m: root / "manipulated_sequences" / m / compression / "videos" for m in methods}
    return {m: str(folder) for m, folder in folders.items() if not _videos_in(folder)}


def say_missing(root: Path, args, missing: dict[str, str]) -> None:
    """Name the methods without videos, and how to name those present (prepare and train)."""
    if not missing:
        return
    present = [m for m in args.methods if m not in missing]
    if not present:
        print(f"lssat: warning: prepare ffpp: no videos of any method asked for ({', '.join(missing)}; looked in "
              f"{', '.join(missing.values())}): only the real videos are prepared", file=sys.stderr)
        return
    print(f"lssat: warning: prepare ffpp: no videos of {', '.join(missing)} (looked in {', '.join(missing.values())}); "
          f"the other methods are prepared. Name the methods present: `lssat prepare ffpp {root} --methods {' '.join(present)}`, "
          f"and in the spec data.params.methods: [{', '.join(present)}]", file=sys.stderr)


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


def check_inside(root: Path, videos: list[Path], layout: str = "lssat") -> None:
    """Refuse, before anything is written, a video whose frame folder (written, and cleared of its
    ``*.png``) would not lie inside ``root``: the lists that name videos are checked as they are
    read; this guards every caller of :func:`prepare`."""
    for video in videos:
        out = frames_folder(video, layout)
        if within(root, os.path.abspath(out)) is None:
            raise UnsafePathError(f"prepare: refusing to write the frames of {video} to {out}, which is not inside {root}")


def prepare(dataset: str, root: Path, videos: list[Path], settings: Settings, workers: int, missing: dict[str, str] | None = None) -> Report:
    """Extract every video not done with these settings; return the report."""
    report = Report(dataset, str(root), {**settings.record(), "min_face_rate": settings.min_face_rate}, missing=dict(missing or {}))
    check_inside(root, videos, settings.layout)
    names = {video: str(video.relative_to(root)) if video.is_relative_to(root) else str(video) for video in videos}
    jobs = []
    for video in videos:
        out = frames_folder(video, settings.layout)
        if not is_done(out, settings):
            jobs.append((video, out))
            continue
        record = read_marker(out)
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
def component_params(component, pairs: list[str], option: str) -> dict:
    """A detector's or landmarker's params from ``OPTION KEY=VALUE``, validated by its params model."""
    import yaml
    from pydantic import ValidationError

    given = {}
    for pair in pairs:
        key, equals, value = pair.partition("=")
        if not equals or not key:
            raise DataError(f"{option}: expected KEY=VALUE, got {pair!r}")
        given[key.strip()] = yaml.safe_load(value)
    try:
        return component.validate(given)
    except (ValidationError, TypeError) as exc:
        fields = ", ".join(component.params_model.model_fields) if component.params_model else "none"
        first = str(exc).strip().splitlines()
        detail = " ".join(first[1:3]) if isinstance(exc, ValidationError) else str(exc)
        raise DataError(f"{option} for {component.name}: {detail} (its params: {fields})") from None


def chosen(args) -> dict:
    """The settings asked for: the defaults, the profile's over them, the flags given over both."""
    values = {**PREPARE_DEFAULTS, **PROFILES.get(args.profile or "", {})}
    for key in ("detector", "landmarker", "frames", "size", "sampling", "layout"):
        if getattr(args, key, None) is not None:
            values[key] = getattr(args, key)
    values["align"] = values["align"] or bool(args.align)
    return values


def _resolved(component, params: dict):
    factory = component.resolve()  # a lazy reference is imported here; it stays picklable for the workers
    factory(**params)  # one that cannot be built (dlib missing) stops here, not in every worker
    return factory


def build_settings(args) -> Settings:
    """The settings of ``lssat prepare``'s arguments, the detector (and landmarker) checked."""
    from .landmarks import landmarker_component

    values = chosen(args)
    detector = detector_component(values["detector"])
    detector_params = component_params(detector, args.detector_param, "--detector-param")
    landmarker = dict(landmarker=None, landmarker_factory=None, landmarker_params={})
    if values["align"]:
        component = landmarker_component(values["landmarker"])
        params = component_params(component, args.landmarker_param, "--landmarker-param")
        landmarker = dict(landmarker=values["landmarker"], landmarker_factory=_resolved(component, params), landmarker_params=params)
    return Settings(values["frames"], values["size"], _resolved(detector, detector_params), detector_params, min_face_rate=args.min_face_rate,
                    detector=values["detector"], align=values["align"], sampling=values["sampling"], layout=values["layout"], profile=args.profile, **landmarker)


def run_prepare(args) -> int:
    from lssat_framework.files.lock import RunLock, RunLockedError

    root = Path(args.root)
    if not root.is_dir():
        raise DataError(f"prepare {args.dataset}: the folder {root} does not exist")
    settings = build_settings(args)
    videos = list_videos(args.dataset, root, args)
    missing = missing_methods(root, args.compression, list(args.methods)) if args.dataset == "ffpp" else {}
    say_missing(root, args, missing)
    try:
        with RunLock(root):  # one prepare per ROOT: two would extract the same videos and each write the report
            report = prepare(args.dataset, root, videos, settings, args.workers or default_workers(), missing)
            path = root / REPORT_FILE
            report.write(path)
    except RunLockedError as exc:
        holder = exc.holder
        raise DataError(f"prepare {args.dataset}: another lssat prepare works in {root} (host {holder.get('host')}, pid {holder.get('pid')}: "
                        f"{holder.get('command', '?')}); wait for it to end or stop it. A holder that died is taken over at once") from None
    print(report.line(path))
    for name, error in report.failed.items():
        print(f"lssat: failed: {name}: {error}", file=sys.stderr)
    return EXIT_SOME_FAILED if report.failed else 0
