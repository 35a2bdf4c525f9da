"""Frames a user already extracted with DeepfakeBench, read from its rearranged dataset JSON.

The JSON (``preprocessing/rearrange.py`` writes it, e.g. ``dataset_json/Celeb-DF-v2.json``)::

    {"<dataset>": {"<label name>": {"train"|"val"|"test": {["c23"|"c40"|"raw":] {"<video>":
        {"label": "<label name>", "frames": ["<path>.png", ...]}}}}}}

Label names such as ``FF-real``, ``FF-DF``, ``CelebDFv2_real``, ``DFDC_Fake``: those ending in
``real`` (any case) are real unless ``real_labels`` says otherwise; every other label is a fake
method (label and group ``method``). Only FaceForensics++'s JSONs have the compression level.
Frame paths (Windows separators too) that are relative are read under ``root``, DeepfakeBench's
``rgb_dir``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lssat_framework.errors import DataError
from lssat_framework.interfaces import DatasetInfo, LabelInfo

from .files import Sample
from .params import DeepfakeBenchParams
from .reader import preparation_record
from .rows import BadRow, Rows, inside, key_path, read_json
from .video import evenly
from .videoframes import VideoFrameSource

COMPRESSIONS = ("raw", "c23", "c40")


def _load(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise DataError(f"deepfakebench: the dataset JSON {path} does not exist")
    data = read_json(path)
    if not isinstance(data, dict) or not data:
        raise DataError(f"{path}: expected {{\"<dataset>\": {{\"<label>\": {{\"<split>\": ...}}}}}}")
    return data


def _object(path: Path, value: Any, keys: tuple, what: str) -> dict[str, Any]:
    """``value`` when it is a JSON object; else an error naming its key path: the JSON's shape is
    wrong above the videos, so no video of it can be read."""
    if not isinstance(value, dict):
        raise DataError(f"{path} at {key_path(*keys)}: expected an object {what}, got a JSON {type(value).__name__}")
    return value


class DeepfakeBenchJSON(VideoFrameSource):
    """Frames listed in a DeepfakeBench dataset JSON; each frame knows its video and method. A
    video entry that is not ``{"label": ..., "frames": [paths]}``, or lists a path outside the
    root, is a bad row."""

    title = "deepfakebench"

    def __init__(self, **params):
        self.params = p = DeepfakeBenchParams(**params)
        path = Path(p.json_file)
        data = _load(path)
        name = p.dataset or (next(iter(data)) if len(data) == 1 else None)
        if name not in data:
            raise DataError(f"{path}: data.params.dataset must name one of its datasets {sorted(data)}, got {p.dataset!r}")
        self.title = f"deepfakebench {name}"
        by_label = _object(path, data[name], (name,), "{label: {split: {video: ...}}}")
        for label, block in by_label.items():
            _object(path, block, (name, label), "{train|val|test: {video: ...}}")
        unknown = sorted(set(p.labels or []) - set(by_label))
        if unknown:
            raise DataError(f"{path}: labels {unknown} are not in {name}, which has {sorted(by_label)}")
        names = [label for label in by_label if p.labels is None or label in p.labels]
        real = set(p.real_labels) if p.real_labels is not None else {n for n in names if n.lower().endswith("real")}
        methods = [n for n in names if n not in real]
        self.root = Path(p.root) if p.root is not None else path.parent
        self.rows = Rows(self.title, p.on_bad_row)
        self._read(path, name, by_label, names, real, methods)
        labels = {"fake": LabelInfo("binary", ["real", "fake"]), "method": LabelInfo("multiclass", ["real", *methods])}
        groups = {"method": ["real", *methods]}
        self.info = DatasetInfo(labels=labels, image_size=(p.image_size, p.image_size), groups=groups, videos=True, skipped_rows=self.rows.skipped,
                                preparation=preparation_record(self.root))
        self.rows.warn_skipped()

    def _videos(self, path: Path, block: Any, keys: tuple) -> tuple[dict[str, Any], tuple]:
        """The videos of one label and split (below the compression level where there is one), and
        their key path."""
        if isinstance(block, dict) and block and set(block) <= set(COMPRESSIONS):
            if self.params.compression not in block:
                raise DataError(f"{path}: {'.'.join(keys[1:])} has the compression levels {sorted(block)}, not data.params.compression {self.params.compression}")
            block, keys = block[self.params.compression], (*keys, self.params.compression)
        return _object(path, block, keys, 'mapping video names to {"label", "frames"}'), keys

    def _frames(self, entry: Any) -> list[Path]:
        """The frame paths of one video entry, each inside the root; :class:`BadRow` otherwise."""
        if not isinstance(entry, dict):
            raise BadRow(f'expected {{"label": ..., "frames": [...]}}, got a JSON {type(entry).__name__}')
        if "label" in entry and not isinstance(entry["label"], str):
            raise BadRow(f'["label"] should be a label name, got {entry["label"]!r}')
        frames = entry.get("frames")
        if not isinstance(frames, list):
            raise BadRow(f'["frames"] should be a list of frame paths, got {frames!r}')
        try:
            return [inside(self.root, frame, f"frame path {key_path('frames', i)}", absolute=True) for i, frame in enumerate(frames)]
        except BadRow as exc:
            raise BadRow(f"{exc}; data.params.root is the folder the JSON's frame paths lie under") from None

    def _read(self, path: Path, name: str, by_label: dict, names: list[str], real: set[str], methods: list[str]) -> None:
        p = self.params
        splits = [s for s in ("train", "val", "test") if any(s in by_label[n] for n in names)]
        if not splits:
            raise DataError(f"{path}: no label of {names} has a train, val or test split")
        self.splits = tuple(splits)
        self.by_split, self.left_out, self.missing, self.empty_reasons = {}, {}, {}, {}
        video_ids: dict[str, int] = {}
        for split in splits:
            samples, empty = [], []
            for label in names:
                method = 0 if label in real else methods.index(label) + 1
                videos, keys = self._videos(path, by_label[label].get(split, {}), (name, label, split))
                rows = ((f"{path} at {key_path(*keys, video)}", (video, entry)) for video, entry in videos.items())
                for video, frames in self.rows.each(rows, lambda item: (item[0], self._frames(item[1]))):
                    if not frames:
                        empty.append(f"{label}/{video}")
                        continue
                    if not frames[0].is_file():
                        raise DataError(
                            f"{path}: the frame {frames[0]} of {label}/{video} does not exist; set data.params.root to the folder "
                            f"DeepfakeBench's paths start from (its rgb_dir), now {self.root}"
                        )
                    vid = video_ids.setdefault(f"{label}/{video}", len(video_ids))
                    labels = {"fake": int(method > 0), "method": method}
                    samples += [Sample(f, labels, video=vid, groups={"method": method}) for f in evenly(sorted(frames), p.frames_per_video)]
            self.by_split[split], self.left_out[split], self.missing[split] = samples, empty, []
            self.empty_reasons[split] = f"{path} lists no video with frames for the {split} split of the labels {names}"
