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

from pathlib import Path

from lssat_framework.errors import DataError

from .files import listing, require_dir
from .params import DFDCParams
from .rows import BadRow, Rows, inside, key_path, one_of, read_json
from .videoframes import ListedVideo, VideoFrameSource, prepared_defaults, prepared_layout

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


def read_metadata(part: Path, rows: Rows) -> list[ListedVideo]:
    """The videos of a training part's ``metadata.json``; an entry without a REAL or FAKE label,
    or whose name leads outside the part, is a bad row."""
    path = part / "metadata.json"
    if not path.is_file():
        raise DataError(f"DFDC: expected {path} ({{\"<file>.mp4\": {{\"label\": \"REAL\"|\"FAKE\", ...}}}}); {part} holds: {listing(part)}")
    entries = read_json(path)
    if not isinstance(entries, dict):
        raise DataError(f"{path}: expected {{\"<file>.mp4\": {{\"label\": \"REAL\"|\"FAKE\"}}}}, got a JSON {type(entries).__name__}")

    def video(item: tuple[str, object]) -> ListedVideo:
        name, entry = item
        if not isinstance(entry, dict):
            raise BadRow(f"expected {{\"label\": \"REAL\"|\"FAKE\", ...}}, got {entry!r}")
        label = one_of(entry.get("label"), LABELS, "the label")
        return ListedVideo(inside(part, name, "video name"), LABELS[label])

    return rows.each(((f"{path} at {key_path(name)}", (name, entry)) for name, entry in sorted(entries.items())), video)


def read_test_labels(folder: Path, rows: Rows) -> list[ListedVideo]:
    """The public test set's ``labels.csv`` (``filename,label``, 1 = fake)."""
    videos = folder / "videos" if (folder / "videos").is_dir() else folder

    def video(row: dict[str, str]) -> ListedVideo:
        if row["label"].strip() not in ("0", "1"):
            raise BadRow(f"label is 0 (real) or 1 (fake), got {row['label']!r}")
        return ListedVideo(inside(videos, row["filename"].strip(), "filename"), int(row["label"]))

    return rows.csv(folder / "labels.csv", ["filename", "label"], video)[1]


class DFDC(VideoFrameSource):
    """DFDC real/fake frames: the training parts found and the public test set; each frame knows
    its video."""

    title = "DFDC"

    def __init__(self, **params):
        p = DFDCParams(**params)
        root = require_dir(Path(p.root), "DFDC")
        self.params = p = prepared_defaults(p, root)
        self.layout = prepared_layout(root)
        self.prepare_command = f"lssat prepare dfdc {root}"
        parts, test = train_parts(root), test_folder(root)
        if not parts and test is None:
            raise DataError(
                f"DFDC: expected training parts {root / 'dfdc_train_part_<k>'}/metadata.json (or under {root / 'train'}) "
                f"or the public test set's {root / 'test/labels.csv'}; {root} holds: {listing(root)}"
            )
        rows = Rows(self.title, p.on_bad_row)
        listed: dict[str, list[ListedVideo]] = {}
        reasons: dict[str, str] = {}
        if parts:
            listed["train"] = [video for part in parts for video in read_metadata(part, rows)]
            reasons["train"] = "the metadata.json of its parts list no video"
        if test is not None:
            listed["val"] = listed["test"] = read_test_labels(test, rows)
            reasons["val"] = reasons["test"] = f"{test / 'labels.csv'} lists no video"
        self.read_videos(listed, [], reasons, rows)
