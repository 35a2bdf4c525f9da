"""Reading labelled images from the user's disk: one dataset class for every on-disk layout."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch.utils.data import Dataset

from lssat_framework.errors import DataError
from lssat_framework.interfaces import DatasetSource
from lssat_framework.images import IMAGE_SUFFIXES, load_image

from .params import OnCorrupt


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


class ImageFiles(Dataset):
    """Samples read from files. A corrupt image is an error naming the file, or with
    ``on_corrupt='skip'`` the next readable sample in its place.

    Every item carries ``skipped``: "" when its own file was read, otherwise the unreadable
    path(s) it replaced, one per line. Items are often made in DataLoader workers, whose copies
    of this dataset the main process never sees, so the trainer learns of skips from the batches
    and warns once per path. Item 0 also names what the split's listing left out (``left_out``,
    e.g. FF++ videos with no frames), so that those are counted the same way. ``skipped`` (the
    attribute) collects all of them, which is enough when items are made in this process."""

    def __init__(self, samples: list[Sample], image_size: int, on_corrupt: OnCorrupt = "error", split: str = "", left_out=()):
        self.samples = samples
        self.image_size = image_size
        self.on_corrupt = on_corrupt
        self.split = split
        self.left_out = list(left_out)
        self.skipped: set[str] = set(left_out)
        # DeepfakeBench's video of a frame: its folder's name alone (FF++ fakes of two methods
        # with one name are one video there), beside our own video ids; see docs/data.md
        names = sorted({s.path.parent.name for s in samples if s.video is not None})
        self.folder_ids = {name: number for number, name in enumerate(names)}

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, index: int) -> dict[str, Any]:
        replaced: list[str] = list(self.left_out) if index == 0 else []
        for offset in range(len(self.samples)):
            sample = self.samples[(index + offset) % len(self.samples)]
            try:
                image = load_image(sample.path, self.image_size, sample.box)
            except DataError:
                if self.on_corrupt == "error":
                    raise
                replaced.append(str(sample.path))
                continue
            self.skipped.update(replaced)
            item = self._item(sample, image, index, "\n".join(replaced))
            if sample.video is not None:
                item["video_folder"] = self.folder_ids[sample.path.parent.name]
            return item
        where = f"the {self.split} split" if self.split else "the split"
        raise DataError(f"no readable image in {where}: all {len(self.samples)} files failed to load, e.g. {(replaced or ['none'])[-1]}")

    @staticmethod
    def _item(sample: Sample, image: torch.Tensor, index: int, skipped: str) -> dict[str, Any]:
        item = {"image": image, "labels": {k: torch.as_tensor(v) for k, v in sample.labels.items()}, "index": index, "skipped": skipped}
        if sample.video is not None:
            item["video"] = sample.video
        if sample.groups:
            item["groups"] = {k: torch.tensor(v) for k, v in sample.groups.items()}
        return item


def images_in(folder: Path) -> list[Path]:
    """The images of a folder; hidden files (e.g. macOS's ``._x.jpg`` copies) are not images."""
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and not p.name.startswith("."))


def subfolders(folder: Path) -> list[Path]:
    """The visible subfolders: hidden ones such as ``.ipynb_checkpoints`` are not classes."""
    return sorted(d for d in folder.iterdir() if d.is_dir() and not d.name.startswith("."))


def class_order(names) -> list[str]:
    """Class names in index order: by number when all are integers ("2" before "10"), else by text."""
    names = set(names)
    try:
        return sorted(names, key=lambda name: (int(name), name))
    except ValueError:
        return sorted(names)


class FileSource(DatasetSource):
    """A dataset whose readers list ``Sample``s per split in ``by_split``; its params carry
    ``image_size`` and ``on_corrupt``. A reader may record, per split, why it is empty
    (``empty_reasons``) and the paths its listing left out (``left_out``, counted as skips)."""

    by_split: dict[str, list[Sample]]
    #: the name in messages, e.g. "CelebA"
    title: str = "dataset"
    empty_reasons: dict[str, str]
    left_out: dict[str, list[str]]

    def split(self, name: str) -> ImageFiles:
        if name not in self.by_split:
            raise DataError(f"{self.title}: there is no {name} split; it has {list(self.by_split)}")
        samples = self.by_split[name]
        if not samples:
            why = getattr(self, "empty_reasons", {}).get(name) or "its listing names no image"
            raise DataError(f"{self.title}: the {name} split is empty: {why}")
        return ImageFiles(samples, self.params.image_size, self.params.on_corrupt, name, getattr(self, "left_out", {}).get(name, ()))


def warn(message: str) -> None:
    print(f"lssat: warning: {message}", file=sys.stderr)
