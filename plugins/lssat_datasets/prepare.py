"""``lssat prepare ffpp ROOT``: extract face frames from the FaceForensics++ videos.

For every ``<...>/<comp>/videos/<name>.mp4`` of the real and manipulated sequences, N frames
evenly spaced over the video are decoded, the face is found with scikit-image's LBP frontal-face
cascade (the largest detection, enlarged 1.3×; the centred square when none is found), cropped,
resized and written to ``<...>/<comp>/images/<name>/NNNN.png``. A video whose folder already holds
its N frames is skipped, so an interrupted run resumes; each frame is written to a temporary file
and renamed, so no half-written PNG is left behind.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import get_args

import numpy as np

from lssat_framework.errors import DataError

from .ffpp import METHODS, Compression
from .files import evenly


def find_videos(root: Path, compression: str, methods: list[str]) -> list[Path]:
    bases = [root / "original_sequences" / "youtube" / compression] + [root / "manipulated_sequences" / m / compression for m in methods]
    videos = []
    for base in bases:
        if (base / "videos").is_dir():
            videos += sorted((base / "videos").glob("*.mp4"))
    return videos


def read_frames(path: Path, count: int) -> list[np.ndarray]:
    try:
        import av
    except ImportError:
        raise DataError("lssat prepare needs PyAV to decode videos: pip install 'lssat-framework[video]'") from None
    try:
        with av.open(str(path)) as container:
            frames = [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]
    except (av.error.FFmpegError, OSError) as exc:
        raise DataError(f"cannot decode video {path}: {exc}") from None
    if not frames:
        raise DataError(f"video {path} has no frames")
    return evenly(frames, count)


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
    from PIL import Image
    from tqdm.auto import tqdm

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
        if out.is_dir() and len(list(out.glob("*.png"))) >= frames:
            skipped += 1
            continue
        out.mkdir(parents=True, exist_ok=True)
        for index, frame in enumerate(read_frames(video, frames)):
            top, left, side = cropper.box(frame)
            face = Image.fromarray(frame[top : top + side, left : left + side]).resize((size, size), Image.BILINEAR)
            tmp = out / f".{index:04d}.png.tmp"
            face.save(tmp, format="PNG")
            os.replace(tmp, out / f"{index:04d}.png")
        done += 1
    print(f"prepare ffpp: {done} videos extracted, {skipped} already done")
    return {"extracted": done, "skipped": skipped}


def add_commands(subparsers) -> None:
    prepare = subparsers.add_parser("prepare", help="prepare a dataset on disk (e.g. extract video frames)")
    which = prepare.add_subparsers(dest="dataset", metavar="DATASET", required=True)
    ffpp = which.add_parser("ffpp", help="extract face frames from the FaceForensics++ videos")
    ffpp.add_argument("root", type=Path)
    ffpp.add_argument("--frames", type=int, default=8, help="frames per video (default 8)")
    ffpp.add_argument("--compression", default="c23", choices=get_args(Compression))
    ffpp.add_argument("--size", type=int, default=256, help="side of the saved face crops (default 256)")
    ffpp.add_argument("--methods", nargs="+", default=list(METHODS), choices=list(METHODS))
    ffpp.add_argument("--debug", action="store_true", default=argparse.SUPPRESS)
    ffpp.set_defaults(handler=_run_ffpp)


def _run_ffpp(args) -> int:
    prepare_ffpp(args.root, args.frames, args.compression, args.size, args.methods)
    return 0
