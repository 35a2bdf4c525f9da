"""Reading labelled images from the user's disk: one dataset class for every on-disk layout."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import torch
from torch.utils.data import Dataset

from lssat_framework.errors import DataError
from lssat_framework.interfaces import DatasetSource
from lssat_framework.images import IMAGE_SUFFIXES, load_image

OnCorrupt = Literal["error", "skip"]


@dataclass
class Sample:
    path: Path
    labels: dict[str, Any]
    #: (left, top, width, height) to crop before resizing, e.g. AffectNet's face box
    box: tuple[float, float, float, float] | None = None
    video: int | None = None
    groups: dict[str, int] = field(default_factory=dict)


def listing(folder: Path) -> str:
    """What a folder holds, for error messages: its first dozen names."""
    return ", ".join(sorted(p.name for p in folder.iterdir())[:12]) or "nothing"


def require_dir(path: Path, what: str) -> Path:
    if not path.is_dir():
        where = f"; {path.parent} holds: {listing(path.parent)}" if path.parent.is_dir() else ""
        raise DataError(f"{what}: expected the folder {path}, which does not exist{where}")
    return path


def evenly(items: list, count: int) -> list:
    """``count`` items evenly spaced over ``items`` (all of them when there are no more)."""
    if len(items) <= count:
        return items
    step = len(items) / count
    return [items[int(i * step)] for i in range(count)]


class ImageFiles(Dataset):
    """Samples read from files. A corrupt image is an error naming the file, or with
    ``on_corrupt='skip'`` a warning (once per file), the next readable sample in its place, and a
    count in ``skipped`` that the run's summary reports."""

    def __init__(self, samples: list[Sample], image_size: int, on_corrupt: OnCorrupt = "error"):
        self.samples = samples
        self.image_size = image_size
        self.on_corrupt = on_corrupt
        self.skipped: set[str] = set()

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, index: int) -> dict[str, Any]:
        for offset in range(len(self.samples)):
            sample = self.samples[(index + offset) % len(self.samples)]
            try:
                image = load_image(sample.path, self.image_size, sample.box)
            except DataError as exc:
                if self.on_corrupt == "error":
                    raise
                if str(sample.path) not in self.skipped:
                    self.skipped.add(str(sample.path))
                    print(f"lssat: warning: {exc}; skipped (on_corrupt: skip)", file=sys.stderr)
                continue
            item = {"image": image, "labels": {k: torch.as_tensor(v) for k, v in sample.labels.items()}, "index": index}
            if sample.video is not None:
                item["video"] = sample.video
            if sample.groups:
                item["groups"] = {k: torch.tensor(v) for k, v in sample.groups.items()}
            return item
        raise DataError("no readable image in the split")


def images_in(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)


class FileSource(DatasetSource):
    """A dataset whose readers list ``Sample``s per split in ``by_split``; its params carry
    ``image_size`` and ``on_corrupt``."""

    by_split: dict[str, list[Sample]]

    def split(self, name: str) -> ImageFiles:
        return ImageFiles(self.by_split[name], self.params.image_size, self.params.on_corrupt)
