"""``lssat prepare ffpp ROOT``: extract face frames from the FaceForensics++ videos.

For every ``<...>/<comp>/videos/<name>.mp4`` of the real and manipulated sequences, N frames
evenly spaced over the video's duration are decoded and turned upright (see ``video.py``), the
face is found with scikit-image's LBP frontal-face cascade (the largest detection, enlarged 1.3×;
the centred square when none is found), cropped, resized and written to
``<...>/<comp>/images/<name>/NNNN.png``. A finished video gets a ``.done.json`` marker (frames asked
for and written: a video shorter than N frames is done too), so a second run skips it and an
interrupted run resumes; frames and marker are written to temporary files and renamed, so nothing
half-written is left behind, and a video that cannot be decoded leaves no folder.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import get_args

import numpy as np

from lssat_framework.errors import DataError

from .ffpp import METHODS, Compression
from .video import read_frames

#: written into a video's frame folder once all its frames are
DONE_MARKER = ".done.json"


def find_videos(root: Path, compression: str, methods: list[str]) -> list[Path]:
    bases = [root / "original_sequences" / "youtube" / compression] + [root / "manipulated_sequences" / m / compression for m in methods]
    videos = []
    for base in bases:
        if (base / "videos").is_dir():
            videos += sorted((base / "videos").glob("*.mp4"))
    return videos


class FaceCropper:
    """The largest face of the LBP cascade, enlarged; the centred square as a fallback."""

    def __init__(self, enlarge: float = 1.3):
        from skimage import data
        from skimage.feature import Cascade

        self.cascade = Cascade(data.lbp_frontal_face_cascade_filename())
        self.enlarge = enlarge

    def box(self, frame: np.ndarray) -> tuple[int, int, int]:
        """(top, left, side) of a square crop."""
        from skimage.color import rgb2gray

        height, width = frame.shape[:2]
        smallest = max(24, min(height, width) // 8)
        detections = self.cascade.detect_multi_scale(
            rgb2gray(frame), scale_factor=1.2, step_ratio=1, min_size=(smallest, smallest), max_size=(min(height, width),) * 2
        )
        if not detections:
            side = min(height, width)
            return (height - side) // 2, (width - side) // 2, side
        face = max(detections, key=lambda d: d["width"] * d["height"])
        side = int(max(face["width"], face["height"]) * self.enlarge)
        side = min(side, height, width)
        cy, cx = face["r"] + face["height"] // 2, face["c"] + face["width"] // 2
        top = int(np.clip(cy - side // 2, 0, height - side))
        left = int(np.clip(cx - side // 2, 0, width - side))
        return top, left, side


def prepare_ffpp(root: Path, frames: int = 8, compression: str = "c23", size: int = 256, methods: list[str] | None = None) -> dict[str, int]:
    from tqdm.auto import tqdm

    if frames < 1 or size < 1:
        raise DataError(f"prepare ffpp: frames and size must be at least 1, got frames={frames}, size={size}")
    root = Path(root)
    if not root.is_dir():
        raise DataError(f"prepare ffpp: the folder {root} does not exist")
    videos = find_videos(root, compression, list(methods or METHODS))
    if not videos:
        raise DataError(
            f"prepare ffpp: no videos found; expected {root / 'original_sequences/youtube' / compression / 'videos'}/*.mp4 "
            f"or {root / 'manipulated_sequences/<Method>' / compression / 'videos'}/*.mp4"
        )
    cropper = FaceCropper()
    done = skipped = 0
    for video in tqdm(videos, desc="extracting frames", unit="video"):
        out = video.parent.parent / "images" / video.stem
        if is_done(out, frames):
            skipped += 1
            continue
        extract(video, out, frames, size, cropper)
        done += 1
    print(f"prepare ffpp: {done} videos extracted, {skipped} already done")
    return {"extracted": done, "skipped": skipped}


def is_done(out: Path, frames: int) -> bool:
    """Whether ``out`` holds a finished extraction of ``frames`` frames (or of the whole video,
    when it has fewer)."""
    marker = out / DONE_MARKER
    if not marker.is_file():  # folders extracted before markers existed count by their frames
        return out.is_dir() and len(list(out.glob("*.png"))) >= frames
    try:
        record = json.loads(marker.read_text())
        return record["frames"] >= frames or record["written"] >= record["video_frames"]
    except (ValueError, KeyError, TypeError):
        return False


def extract(video: Path, out: Path, frames: int, size: int, cropper: FaceCropper) -> None:
    from PIL import Image

    pictures, video_frames = read_frames(video, frames)  # before the folder exists: a failure leaves none
    out.mkdir(parents=True, exist_ok=True)
    for stale in out.glob("*.png"):  # a stopped run's frames, picked for another count
        stale.unlink()
    for index, frame in enumerate(pictures):
        top, left, side = cropper.box(frame)
        face = Image.fromarray(frame[top : top + side, left : left + side]).resize((size, size), Image.BILINEAR)
        tmp = out / f".{index:04d}.png.tmp"
        face.save(tmp, format="PNG")
        os.replace(tmp, out / f"{index:04d}.png")
    record = {"frames": frames, "written": len(pictures), "video_frames": video_frames}
    (out / f"{DONE_MARKER}.tmp").write_text(json.dumps(record))
    os.replace(out / f"{DONE_MARKER}.tmp", out / DONE_MARKER)


def at_least_one(text: str) -> int:
    """An argparse type: a whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def add_commands(subparsers) -> None:
    prepare = subparsers.add_parser("prepare", help="prepare a dataset on disk (e.g. extract video frames)")
    which = prepare.add_subparsers(dest="dataset", metavar="DATASET", required=True)
    ffpp = which.add_parser("ffpp", help="extract face frames from the FaceForensics++ videos")
    ffpp.add_argument("root", type=Path)
    ffpp.add_argument("--frames", type=at_least_one, default=8, help="frames per video (default 8)")
    ffpp.add_argument("--compression", default="c23", choices=get_args(Compression))
    ffpp.add_argument("--size", type=at_least_one, default=256, help="side of the saved face crops (default 256)")
    ffpp.add_argument("--methods", nargs="+", default=list(METHODS), choices=list(METHODS))
    ffpp.add_argument("--debug", action="store_true", default=argparse.SUPPRESS)
    ffpp.set_defaults(handler=_run_ffpp)


def _run_ffpp(args) -> int:
    prepare_ffpp(args.root, args.frames, args.compression, args.size, args.methods)
    return 0
