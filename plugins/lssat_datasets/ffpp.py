"""FaceForensics++ from extracted frames and the official split lists.

Frames: ``original_sequences/youtube/<comp>/images/<video>/*.png`` (or ``frames/``) for the real
videos and ``manipulated_sequences/<Method>/<comp>/images/<target>_<source>/*.png`` for the fakes;
``lssat prepare ffpp ROOT`` extracts them from the ``videos/`` folders. Splits: ``train.json``,
``val.json``, ``test.json`` (in ``ROOT`` or ``ROOT/splits``), each a list of pairs ``[a, b]``: the
real videos ``a`` and ``b`` and the fakes ``a_b`` and ``b_a``. A video belongs to one split only,
so no identity crosses splits.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field

from lssat_framework.errors import DataError
from lssat_framework.interfaces import DatasetInfo, LabelInfo

from .files import FileSource, OnCorrupt, Sample, evenly, images_in, require_dir

Method = Literal["Deepfakes", "Face2Face", "FaceSwap", "NeuralTextures", "FaceShifter"]
METHODS = get_args(Method)
Compression = Literal["raw", "c23", "c40"]


class FFppParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    root: Path
    methods: list[Method] = Field(
        default_factory=lambda: ["Deepfakes", "Face2Face", "FaceSwap", "NeuralTextures"], min_length=1
    )
    compression: Compression = "c23"
    #: frames taken per video, evenly spaced over the extracted ones
    frames_per_video: int = Field(8, ge=1)
    image_size: int = Field(128, ge=8)
    on_corrupt: OnCorrupt = "error"


def frame_folder(base: Path, video: str) -> Path | None:
    for kind in ("images", "frames"):
        folder = base / kind / video
        if folder.is_dir():
            return folder
    return None


class FaceForensics(FileSource):
    """FaceForensics++ real/fake frames; each frame knows its video (video-level metrics)."""

    splits = ("train", "val", "test")

    def __init__(self, **params):
        self.params = p = FFppParams(**params)
        root = require_dir(Path(p.root), "FaceForensics++")
        real_base = require_dir(root / "original_sequences" / "youtube" / p.compression, "FaceForensics++")
        fake_bases = {m: require_dir(root / "manipulated_sequences" / m / p.compression, "FaceForensics++") for m in p.methods}
        self.by_split: dict[str, list[Sample]] = {}
        video_ids: dict[str, int] = {}
        missing: list[str] = []
        for split in self.splits:
            pairs = self._pairs(root, split)
            samples: list[Sample] = []
            for a, b in pairs:
                videos = [(real_base, a, 0, 0), (real_base, b, 0, 0)]
                for index, method in enumerate(p.methods, start=1):
                    videos += [(fake_bases[method], f"{a}_{b}", 1, index), (fake_bases[method], f"{b}_{a}", 1, index)]
                for base, video, fake, method in videos:
                    folder = frame_folder(base, video)
                    if folder is None:
                        missing.append(str(base / "images" / video))
                        continue
                    key = f"{base}/{video}"
                    vid = video_ids.setdefault(key, len(video_ids))
                    for frame in evenly(images_in(folder), p.frames_per_video):
                        samples.append(Sample(frame, {"fake": fake, "method": method}, video=vid))
            self.by_split[split] = samples
        if missing:
            raise DataError(
                f"FaceForensics++: {len(missing)} videos of the split lists have no extracted frames, e.g. {missing[0]}; "
                f"run `lssat prepare ffpp {root}` or choose the methods you have with data.params.methods"
            )
        self.info = DatasetInfo(
            labels={"fake": LabelInfo("binary", ["real", "fake"]), "method": LabelInfo("multiclass", ["real", *p.methods])},
            image_size=(p.image_size, p.image_size),
        )

    @staticmethod
    def _pairs(root: Path, split: str) -> list[tuple[str, str]]:
        for folder in (root, root / "splits"):
            path = folder / f"{split}.json"
            if path.is_file():
                try:
                    pairs = json.loads(path.read_text())
                    return [(str(a), str(b)) for a, b in pairs]
                except (ValueError, TypeError) as exc:
                    raise DataError(f"{path}: expected a JSON list of [a, b] pairs ({exc})") from None
        raise DataError(f"FaceForensics++: expected the split list {root / (split + '.json')} (or in {root / 'splits'})")
