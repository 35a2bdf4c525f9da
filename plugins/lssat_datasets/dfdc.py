"""DFDC (the Deepfake Detection Challenge dataset) from extracted frames.

Training parts: ``dfdc_train_part_<k>/`` (in ``ROOT`` or ``ROOT/train``), each with its videos and a
``metadata.json`` ``{"<file>.mp4": {"label": "REAL"|"FAKE", "split": "train", "original":
"<source>.mp4"}}``. The public test set: ``test/labels.csv`` (columns ``filename,label``, 1 = fake)
with the videos in ``test/videos/`` (or ``test/`` itself). Frames: ``<part>/frames/<file>/*.png`` and
``test/images/<file>/`` (or ``test/frames/``, DeepfakeBench's place); ``lssat prepare dfdc ROOT``
writes them. Splits: ``train`` (every part found) and ``test``; DFDC has no validation set of its
own, so ``val`` is the test set.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

from lssat_framework.errors import DataError

from .files import listing, require_dir
from .params import DFDCParams
from .videoframes import ListedVideo, VideoFrameSource

LABELS = {"REAL": 0, "FAKE": 1}


def train_parts(root: Path) -> list[Path]:
    """The training parts on disk, in their number's order."""
    parts = [p for base in (root, root / "train") if base.is_dir() for p in base.glob("dfdc_train_part_*") if p.is_dir()]
    return sorted(parts, key=lambda p: (int(p.name.rsplit("_", 1)[-1]) if p.name.rsplit("_", 1)[-1].isdigit() else 0, p.name))


def test_folder(root: Path) -> Path | None:
    """The public test set's folder (the one holding ``labels.csv``), if present."""
    for folder in (root / "test", root):
        if (folder / "labels.csv").is_file():
            return folder
    return None


def read_metadata(part: Path) -> list[ListedVideo]:
    path = part / "metadata.json"
    if not path.is_file():
        raise DataError(f"DFDC: expected {path} ({{\"<file>.mp4\": {{\"label\": \"REAL\"|\"FAKE\", ...}}}}); {part} holds: {listing(part)}")
    try:
        entries = json.loads(path.read_text())
        return [ListedVideo(part / name, LABELS[entry["label"]]) for name, entry in sorted(entries.items())]
    except (ValueError, TypeError, AttributeError, KeyError) as exc:
        raise DataError(f"{path}: expected {{\"<file>.mp4\": {{\"label\": \"REAL\"|\"FAKE\"}}}} for every video ({type(exc).__name__}: {exc})") from None


def read_test_labels(folder: Path) -> list[ListedVideo]:
    path = folder / "labels.csv"
    videos = folder / "videos" if (folder / "videos").is_dir() else folder
    with open(path, newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        if not {"filename", "label"} <= set(reader.fieldnames or []):
            raise DataError(f"{path}: expected the columns filename,label; the header is {reader.fieldnames}")
        listed = []
        for line, row in enumerate(reader, start=2):
            if row["label"] not in ("0", "1"):
                raise DataError(f"{path}:{line}: label is 0 (real) or 1 (fake), got {row['label']!r}")
            listed.append(ListedVideo(videos / row["filename"], int(row["label"])))
    return listed


class DFDC(VideoFrameSource):
    """DFDC real/fake frames: the training parts found and the public test set; each frame knows
    its video."""

    title = "DFDC"

    def __init__(self, **params):
        self.params = p = DFDCParams(**params)
        root = require_dir(Path(p.root), "DFDC")
        self.prepare_command = f"lssat prepare dfdc {root}"
        parts, test = train_parts(root), test_folder(root)
        if not parts and test is None:
            raise DataError(
                f"DFDC: expected training parts {root / 'dfdc_train_part_<k>'}/metadata.json (or under {root / 'train'}) "
                f"or the public test set's {root / 'test/labels.csv'}; {root} holds: {listing(root)}"
            )
        listed: dict[str, list[ListedVideo]] = {}
        reasons: dict[str, str] = {}
        if parts:
            listed["train"] = [video for part in parts for video in read_metadata(part)]
            reasons["train"] = "the metadata.json of its parts list no video"
        if test is not None:
            listed["val"] = listed["test"] = read_test_labels(test)
            reasons["val"] = reasons["test"] = f"{test / 'labels.csv'} lists no video"
        self.read_videos(listed, [], reasons)
