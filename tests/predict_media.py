"""What the ``lssat predict`` tests share: videos made with PyAV from scikit-image's real photos,
a tiny trained run (one per test module), and the crops ``lssat prepare`` writes for a video."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest

from conftest import shipped_plugin_manager

av = pytest.importorskip("av")


def face_photo(name: str = "astronaut") -> np.ndarray:
    from skimage import data

    return getattr(data, name)()


def make_video(path: Path, frames: int = 40, size: tuple[int, int] = (320, 240), faces: int = 1, fps: int = 10) -> Path:
    """A video of the astronaut's face (``faces`` times side by side) drifting a few pixels per
    frame on a grey background, H.264 in an MP4 as phones and FF++ store them."""
    from PIL import Image

    width, height = size
    side = min(height - 20, (width - 40) // faces)
    face = Image.fromarray(face_photo()).resize((side, side))
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for index in range(frames):
            canvas = Image.new("RGB", size, (60, 60, 60))
            for k in range(faces):
                canvas.paste(face, (10 + k * (side + 20) + index % 5, 10))
            for packet in stream.encode(av.VideoFrame.from_ndarray(np.asarray(canvas), format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def save_photo(path: Path, name: str = "astronaut") -> Path:
    from PIL import Image

    Image.fromarray(face_photo(name)).save(path)
    return path


def train_run(folder: Path, **task) -> Path:
    """A tiny run (the testing module's spec) trained in ``folder/run``; ``task`` replaces its task."""
    from lssat_framework.testing import TINY_SPEC, train_tiny

    spec = copy.deepcopy(TINY_SPEC)
    spec["train"]["recon_grid"] = False
    if task:
        spec["task"] = task
    train_tiny(spec, folder, manager=shipped_plugin_manager())
    return folder / "run"


def prepared_crops(video: Path, out: Path, frames: int = 8, size: int = 256) -> list[Path]:
    """The crops ``lssat prepare`` writes for ``video`` with its default detector, as files."""
    from lssat_datasets.extract import Settings, extract
    from lssat_datasets.faces import LbpCascade

    settings = Settings(frames, size, LbpCascade)
    record = extract(video, out, settings, settings.finder())
    assert record["status"] == "extracted", record
    return sorted(out.glob("*.png"))


def read_csv(path: Path) -> list[dict[str, str]]:
    import csv

    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))
