"""FaceForensics++ from extracted frames and the official split lists.

Frames: ``original_sequences/youtube/<comp>/images/<video>/*.png`` (or ``frames/``) for the real
videos and ``manipulated_sequences/<Method>/<comp>/images/<target>_<source>/*.png`` for the fakes;
``lssat prepare ffpp ROOT`` extracts them from the ``videos/`` folders. Splits: ``train.json``,
``val.json``, ``test.json`` (in ``ROOT`` or ``ROOT/splits``), each a list of pairs ``[a, b]``: the
real videos ``a`` and ``b`` and the fakes ``a_b`` and ``b_a``. A video belongs to one split only,
so no identity crosses splits. Each frame carries its method (label and group ``method``, 0 real)
for the per-method AUC.

DeepFakeDetection (DFD) lives in the same tree: ``original_sequences/actors/<comp>/`` and
``manipulated_sequences/DeepFakeDetection/<comp>/``; it has no split lists and serves as a test set.
"""

from __future__ import annotations

from pathlib import Path

from lssat_framework.errors import DataError
from lssat_framework.interfaces import DatasetInfo, LabelInfo
from lssat_framework.files.safe import check_name

from .files import FileSource, Sample, images_in, require_dir, warn
from .params import DFDParams, FFppParams
from .reader import preparation_record
from .rows import BadRow, Rows, key_path, read_json
from .video import evenly
from .videoframes import ListedVideo, VideoFrameSource, frame_folders, prepared_defaults, prepared_layout


def frame_folder(base: Path, video: str, layout: str = "lssat") -> Path | None:
    """The video's frame folder, first where ``layout`` writes it (see :func:`prepared_layout`)."""
    for kind in ("frames", "images") if layout == "deepfakebench" else ("images", "frames"):
        folder = base / kind / video
        if folder.is_dir():
            return folder
    return None


def _method_dir(root: Path, method: str, p: FFppParams) -> Path:
    """A method's folder; a missing one is an error naming the methods present and the fix."""
    folder = root / "manipulated_sequences" / method / p.compression
    if folder.is_dir():
        return folder
    present = [m for m in p.methods if (root / "manipulated_sequences" / m / p.compression).is_dir()]
    fix = f"set data.params.methods to those present, [{', '.join(present)}]" if present else f"no method of {list(p.methods)} has a folder there"
    raise DataError(f"FaceForensics++: no folder {folder} for the method {method}; {fix}")


class FaceForensics(FileSource):
    """FaceForensics++ real/fake frames; each frame knows its video (video-level metrics). A
    listed video without frames is an error, or with ``on_corrupt: skip`` left out and counted."""

    splits = ("train", "val", "test")
    title = "FaceForensics++"

    def __init__(self, **params):
        p = FFppParams(**params)
        root = require_dir(Path(p.root), "FaceForensics++")
        self.params = p = prepared_defaults(p, root)
        layout = prepared_layout(root)
        real_base = require_dir(root / "original_sequences" / "youtube" / p.compression, "FaceForensics++")
        fake_bases = {m: _method_dir(root, m, p) for m in p.methods}
        self.by_split, self.empty_reasons, self.left_out = {}, {}, {}
        video_ids: dict[str, int] = {}
        missing: list[str] = []
        rows = Rows(self.title, p.on_bad_row)
        for split in self.splits:
            list_path, pairs = self._pairs(root, split, rows)
            samples: list[Sample] = []
            empty: list[str] = []
            for base, video, fake, method in self._videos(pairs, real_base, fake_bases):
                folder = frame_folder(base, video, layout)
                if folder is None:
                    missing.append(str(base / ("frames" if layout == "deepfakebench" else "images") / video))
                    continue
                frames = images_in(folder)
                if not frames:  # prepare failed or was stopped on this video
                    empty.append(str(folder))
                    continue
                vid = video_ids.setdefault(f"{base}/{video}", len(video_ids))
                samples += [Sample(frame, {"fake": fake, "method": method}, video=vid, groups={"method": method}) for frame in evenly(frames, p.frames_per_video)]
            self.by_split[split] = samples
            self.left_out[split] = empty
            self.empty_reasons[split] = f"{list_path} lists no pair" if not pairs else "every frame folder of its videos is empty (on_corrupt: skip)"
        if missing:
            raise DataError(
                f"FaceForensics++: {len(missing)} videos of the split lists have no extracted frames, e.g. {missing[0]}; "
                f"run `lssat prepare ffpp {root}` or choose the methods you have with data.params.methods"
            )
        self._check_empty_folders(root)
        self.info = DatasetInfo(
            labels={"fake": LabelInfo("binary", ["real", "fake"]), "method": LabelInfo("multiclass", ["real", *p.methods])},
            image_size=(p.image_size, p.image_size),
            groups={"method": ["real", *p.methods]},  # the deepfake task's per-method AUC
            videos=True,  # frames know their video: tasks report per-video metrics
            skipped_rows=rows.skipped,
            preparation=preparation_record(root),  # lssat predict finds faces as they were
        )
        rows.warn_skipped()

    def _videos(self, pairs: list[tuple[str, str]], real_base: Path, fake_bases: dict[str, Path]):
        """(frame base, video, fake, method index) of each video a pair stands for."""
        for a, b in pairs:
            yield (real_base, a, 0, 0)
            yield (real_base, b, 0, 0)
            for index, method in enumerate(self.params.methods, start=1):
                yield (fake_bases[method], f"{a}_{b}", 1, index)
                yield (fake_bases[method], f"{b}_{a}", 1, index)

    def _check_empty_folders(self, root: Path) -> None:
        empty = [folder for folders in self.left_out.values() for folder in folders]
        if not empty:
            return
        if self.params.on_corrupt == "error":
            raise DataError(
                f"FaceForensics++: {len(empty)} videos of the split lists have an empty frame folder (their extraction failed, "
                f"was stopped, or dropped them for too few faces: see prepare_report.json), e.g. {empty[0]}; run `lssat prepare ffpp {root}` again, or set data.params.on_corrupt: skip "
                "to leave them out"
            )
        warn(f"FaceForensics++: {len(empty)} videos of the split lists have no frames and are left out (on_corrupt: skip), e.g. {empty[0]}")

    @staticmethod
    def _pairs(root: Path, split: str, rows: Rows) -> tuple[Path, list[tuple[str, str]]]:
        for folder in (root, root / "splits"):
            path = folder / f"{split}.json"
            if path.is_file():
                pairs = read_json(path)
                if not isinstance(pairs, list):
                    raise DataError(f"{path}: expected a JSON list of [a, b] pairs, got a JSON {type(pairs).__name__}")
                return path, rows.each(((f"{path} at {key_path(i)}", pair) for i, pair in enumerate(pairs)), _pair)
        raise DataError(f"FaceForensics++: expected the split list {root / (split + '.json')} (or in {root / 'splits'})")


def _pair(pair) -> tuple[str, str]:
    """Two video names, e.g. ["000", "003"]: each a folder name, never a path."""
    if not isinstance(pair, list) or len(pair) != 2:
        raise BadRow(f"expected a pair of video names [a, b], got {pair!r}")
    names = tuple(str(v) if isinstance(v, int) and not isinstance(v, bool) else v for v in pair)
    for name in names:
        if not isinstance(name, str) or check_name(name) is not None:
            raise BadRow(f"{name!r} of {pair!r} is not a video name (letters, digits, '-', '_' or '.'; no '/', not starting with '.')")
    return names


class DeepFakeDetection(VideoFrameSource):
    """DeepFakeDetection (DFD): the actors' real videos and their fakes, one method; all in the
    ``test`` split (DFD has no official split; the field tests on all of it)."""

    title = "DeepFakeDetection"

    def __init__(self, **params):
        p = DFDParams(**params)
        root = require_dir(Path(p.root), "DeepFakeDetection")
        self.params = p = prepared_defaults(p, root)
        self.layout = prepared_layout(root)
        self.prepare_command = f"lssat prepare dfd {root} --compression {p.compression}"
        real = require_dir(root / "original_sequences" / "actors" / p.compression, "DeepFakeDetection")
        fake = require_dir(root / "manipulated_sequences" / "DeepFakeDetection" / p.compression, "DeepFakeDetection")
        videos = [ListedVideo(v, 0) for v in frame_folders(real / "videos")] + [ListedVideo(v, 1, 1) for v in frame_folders(fake / "videos")]
        reason = f"neither {real / 'videos'} nor {fake / 'videos'} holds a video or its frames"
        self.read_videos({"test": videos}, ["DeepFakeDetection"], {"test": reason})
