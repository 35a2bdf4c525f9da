"""What the video datasets share: each video is a folder of extracted frames (``lssat prepare``
writes them), every frame knows its video, and a dataset with several manipulation methods gives
each sample its method, as the label ``method`` and the group ``method`` (0 = real), from which the
deepfake task reports a per-method AUC.

A video listed by the dataset whose frames were not extracted is an error when its split is used,
naming the folder expected and the command that makes it; an empty frame folder is an error or,
with ``on_corrupt: skip``, left out and counted.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from lssat_framework.errors import DataError
from lssat_framework.interfaces import DatasetInfo, LabelInfo

from .extract import frames_folder
from .files import FileSource, ImageFiles, Sample, images_in, warn
from .reader import preparation_record
from .rows import Rows
from .video import evenly

#: what the readers take where neither the spec nor a preparation report says
FRAMES_PER_VIDEO, IMAGE_SIZE = 8, 128


def prepared_defaults(params, root: Path):
    """``params`` with ``frames_per_video`` and ``image_size`` the spec left null set as the
    frames in ``root`` were prepared (``prepare_report.json``'s frames and size), else 8 and 128. A
    report that cannot be read, or whose values are not whole numbers, is not used."""
    settings = preparation_record(root) or {}

    def prepared(key: str, default: int, least: int) -> int:
        value = settings.get(key)
        return value if isinstance(value, int) and not isinstance(value, bool) and value >= least else default

    update = {}
    if params.frames_per_video is None:
        update["frames_per_video"] = prepared("frames", FRAMES_PER_VIDEO, 1)
    if params.image_size is None:
        update["image_size"] = prepared("size", IMAGE_SIZE, 8)
    return params.model_copy(update=update)


@dataclass(frozen=True)
class ListedVideo:
    """A video as the dataset lists it: where it is (or was) in the official layout, its label and
    its method (0 real, k the k-th method)."""

    video: Path
    fake: int
    method: int = 0


def prepared_layout(root: Path) -> str:
    """The layout ``root``'s frames were last prepared in (its ``prepare_report.json``), whose
    folders are read first where both ``images/`` and ``frames/`` exist."""
    layout = (preparation_record(root) or {}).get("layout")
    return layout if layout in ("lssat", "deepfakebench") else "lssat"


def _frame_parents(video: Path, layout: str = "lssat") -> list[Path]:
    """The folders that may hold the frame folder of ``video``: where ``lssat prepare`` writes it
    in ``layout``, and the same place named ``images/`` or ``frames/`` (DeepfakeBench's name)."""
    primary = frames_folder(video, layout).parent
    other = "frames" if primary.name == "images" else "images"
    return [primary, primary.parent / other]


def find_frames(video: Path, layout: str = "lssat") -> Path | None:
    """The frame folder of ``video``, if it was extracted."""
    for parent in _frame_parents(video, layout):
        if (parent / video.stem).is_dir():
            return parent / video.stem
    return None


def frame_folders(video_folder: Path) -> list[Path]:
    """The videos of ``video_folder``, known by their files or by their extracted frame folders,
    so that a dataset whose videos were deleted after extraction still reads."""
    stems = {p.stem for p in video_folder.glob("*.mp4") if not p.name.startswith(".")} if video_folder.is_dir() else set()
    for parent in _frame_parents(video_folder / "any.mp4"):
        if parent.is_dir():
            stems |= {d.name for d in parent.iterdir() if d.is_dir() and not d.name.startswith(".")}
    return [video_folder / f"{stem}.mp4" for stem in sorted(stems)]


class VideoFrameSource(FileSource):
    """A dataset of extracted video frames; subclasses list their videos per split."""

    #: the command that extracts the frames, for messages (e.g. "lssat prepare celebdf ROOT")
    prepare_command: str = "lssat prepare"
    #: the layout the frames were prepared in (:func:`prepared_layout`)
    layout: str = "lssat"

    def read_videos(self, listed: dict[str, list[ListedVideo]], methods: list[str], reasons: dict[str, str], rows: Rows | None = None) -> None:
        """Fill ``by_split`` from the listed videos; ``methods`` names the fake methods (none: the
        dataset has no method label); ``reasons`` say why a split lists no video; ``rows``: the
        bad rows of the lists that named them, counted in ``info.skipped_rows`` and warned of."""
        p = self.params
        self.splits = tuple(listed)
        self.by_split, self.left_out, self.missing, self.empty_reasons = {}, {}, {}, {}
        video_ids: dict[str, int] = {}
        for split, videos in listed.items():
            samples, empty, missing = [], [], []
            for entry in videos:
                folder = find_frames(entry.video, self.layout)
                if folder is None:
                    missing.append(str(frames_folder(entry.video, self.layout)))
                    continue
                frames = images_in(folder)
                if not frames:
                    empty.append(str(folder))
                    continue
                video = video_ids.setdefault(str(folder), len(video_ids))
                labels = {"fake": entry.fake, **({"method": entry.method} if methods else {})}
                groups = {"method": entry.method} if methods else {}
                samples += [Sample(frame, labels, video=video, groups=dict(groups)) for frame in evenly(frames, p.frames_per_video)]
            self.by_split[split], self.left_out[split], self.missing[split] = samples, empty, missing
            self.empty_reasons[split] = reasons.get(split) or "every frame folder of its videos is empty (on_corrupt: skip)"
        labels = {"fake": LabelInfo("binary", ["real", "fake"])}
        groups = {}
        if methods:
            labels["method"] = LabelInfo("multiclass", ["real", *methods])
            groups["method"] = ["real", *methods]
        skipped = rows.skipped if rows is not None else []
        self.info = DatasetInfo(labels=labels, image_size=(p.image_size, p.image_size), groups=groups, videos=True, skipped_rows=skipped,
                                preparation=preparation_record(Path(p.root)) if getattr(p, "root", None) else None)  # lssat predict finds faces as they were
        if rows is not None:
            rows.warn_skipped()

    def split(self, name: str) -> ImageFiles:
        if name in self.by_split:
            self._check_frames(name)
        return super().split(name)

    def _check_frames(self, split: str) -> None:
        missing, empty = self.missing[split], self.left_out[split]
        if missing:
            raise DataError(
                f"{self.title}: {len(missing)} videos of the {split} split have no extracted frames, e.g. the folder "
                f"{missing[0]}; run `{self.prepare_command}`"
            )
        if empty and self.params.on_corrupt == "error":
            raise DataError(
                f"{self.title}: {len(empty)} videos of the {split} split have an empty frame folder (their extraction failed, "
                f"was stopped, or dropped them for too few faces: see prepare_report.json), e.g. {empty[0]}; run "
                f"`{self.prepare_command}` again, or set data.params.on_corrupt: skip to leave them out"
            )
        if empty:
            warn(f"{self.title}: {len(empty)} videos of the {split} split have no frames and are left out (on_corrupt: skip), e.g. {empty[0]}")
