"""The params models of the builtin datasets and face detectors, with what their fields need.

This module imports pydantic and the standard library only: the plugin registers its components
with these models and a ``"lssat_datasets.<module>:<Class>"`` reference, so that ``lssat validate``,
``lssat list`` and ``lssat --help`` check and show params without importing torch or the readers.
The ``#:`` comments above the fields are the descriptions of ``docs/spec-reference.md``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, model_validator

OnCorrupt = Literal["error", "skip"]
OnBadRow = Literal["error", "skip"]
Method = Literal["Deepfakes", "Face2Face", "FaceSwap", "NeuralTextures", "FaceShifter"]
METHODS = get_args(Method)
Compression = Literal["raw", "c23", "c40"]
Manipulation = Literal["smooth", "resample", "checker"]
MANIPULATIONS = get_args(Manipulation)
DEFAULT_DETECTOR = "lbp-cascade"
DEFAULT_LANDMARKER = "dlib-68"
Sampling = Literal["spans", "linspace"]
Layout = Literal["lssat", "deepfakebench"]

#: what ``lssat prepare --profile NAME`` sets (a flag given beside it wins); DeepfakeBench's
#: preprocessing/preprocess.py and config.yaml: dlib's frontal detector, its landmarks' five
#: points onto the ArcFace template at scale 1.3, 256 px, 32 frames at np.linspace, and its
#: folders (frames/<video>/<frame index>.png)
PROFILES: dict[str, dict] = {
    "deepfakebench": {"detector": "dlib-hog", "align": True, "landmarker": DEFAULT_LANDMARKER, "frames": 32, "size": 256, "sampling": "linspace", "layout": "deepfakebench"},
}
#: what ``lssat prepare`` takes without a profile
PREPARE_DEFAULTS: dict = {"detector": DEFAULT_DETECTOR, "align": False, "landmarker": DEFAULT_LANDMARKER, "frames": 8, "size": 256, "sampling": "spans", "layout": "lssat"}


# ------------------------------------------------------------------ datasets
class SyntheticFacesParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    image_size: int = Field(64, ge=16)
    train: int = Field(2000, ge=1)
    val: int = Field(500, ge=1)
    test: int = Field(500, ge=1)
    seed: int = 0
    #: share of fake images
    fake_ratio: float = Field(0.5, ge=0, le=1)
    #: manipulations a fake is drawn from (one per fake, uniformly)
    manipulations: list[Manipulation] = Field(default_factory=lambda: list(MANIPULATIONS), min_length=1)


class LfwSbiParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    image_size: int = Field(64, ge=16)
    #: self-blended fakes made from each photograph (each also appears once as real)
    fakes_per_image: int = Field(1, ge=1)
    seed: int = 0


class CelebAParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    root: Path
    image_size: int = Field(128, ge=8)
    #: attributes to predict, by name; null = all 40
    attributes: list[str] | None = None
    #: attributes reported as fairness groups, e.g. [Male, Young]
    groups: list[str] = Field(default_factory=list)
    #: keep at most this many images per split (quick runs); null = all
    limit: int | None = Field(None, ge=1)
    on_corrupt: OnCorrupt = "error"
    #: a bad row of the dataset's lists (a missing or unreadable field, a split or label not known, a
    #: path outside the root): error names it; skip leaves it out and counts it (skipped_rows)
    on_bad_row: OnBadRow = "error"


class AffectNetParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    root: Path
    classes: Literal[7, 8] = 7
    image_size: int = Field(112, ge=8)
    #: crop to the annotated face box (distributed layout)
    crop_face: bool = True
    limit: int | None = Field(None, ge=1)
    on_corrupt: OnCorrupt = "error"
    #: a bad row of the dataset's lists (a missing or unreadable field, a split or label not known, a
    #: path outside the root): error names it; skip leaves it out and counts it (skipped_rows)
    on_bad_row: OnBadRow = "error"


class FFppParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    root: Path
    methods: list[Method] = Field(
        default_factory=lambda: ["Deepfakes", "Face2Face", "FaceSwap", "NeuralTextures"], min_length=1
    )
    compression: Compression = "c23"
    #: frames taken per video, evenly spaced over the extracted ones; null: as many as were
    #: prepared (ROOT/prepare_report.json), else 8
    frames_per_video: int | None = Field(None, ge=1)
    #: null: the side the frames were prepared at (ROOT/prepare_report.json), else 128
    image_size: int | None = Field(None, ge=8)
    on_corrupt: OnCorrupt = "error"
    #: a bad row of the dataset's lists (a missing or unreadable field, a split or label not known, a
    #: path outside the root): error names it; skip leaves it out and counts it (skipped_rows)
    on_bad_row: OnBadRow = "error"


class VideoParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    root: Path
    #: frames taken per video, evenly spaced over the extracted ones; null: as many as were
    #: prepared (ROOT/prepare_report.json), else 8
    frames_per_video: int | None = Field(None, ge=1)
    #: null: the side the frames were prepared at (ROOT/prepare_report.json), else 128
    image_size: int | None = Field(None, ge=8)
    on_corrupt: OnCorrupt = "error"
    #: a bad row of the dataset's lists (a missing or unreadable field, a split or label not known, a
    #: path outside the root): error names it; skip leaves it out and counts it (skipped_rows)
    on_bad_row: OnBadRow = "error"


class DFDParams(VideoParams):
    compression: Compression = "c23"


class CelebDFParams(VideoParams):
    pass


class DFDCParams(VideoParams):
    pass


class DeepfakeBenchParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    #: the dataset JSON
    json_file: Path
    #: the folder relative frame paths start from (DeepfakeBench's rgb_dir); default: the JSON's folder
    root: Path | None = None
    #: the top-level key; default: the JSON's only one
    dataset: str | None = None
    #: FaceForensics++'s JSONs list every compression level
    compression: Compression = "c23"
    #: the label names to read; default: all
    labels: list[str] | None = None
    #: the label names that are real; default: those ending in "real" (any case)
    real_labels: list[str] | None = None
    frames_per_video: int = Field(8, ge=1)
    image_size: int = Field(128, ge=8)
    on_corrupt: OnCorrupt = "error"
    #: a bad row of the dataset's lists (a missing or unreadable field, a split or label not known, a
    #: path outside the root): error names it; skip leaves it out and counts it (skipped_rows)
    on_bad_row: OnBadRow = "error"


class ImageFolderParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    #: ``root/<split>/<class>/*.jpg`` with split folders train, val and optionally test
    root: Path
    image_size: int = Field(128, ge=8)
    on_corrupt: OnCorrupt = "error"
    #: a bad row of the dataset's lists (a missing or unreadable field, a split or label not known, a
    #: path outside the root): error names it; skip leaves it out and counts it (skipped_rows)
    on_bad_row: OnBadRow = "error"


class ImageCSVParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    #: a CSV with a path column (relative to the CSV's folder), a split column and labels
    csv: Path
    path_column: str = "path"
    split_column: str = "split"
    #: a multi-class label column (values are class names); exposed as the label ``class``
    label_column: str | None = None
    #: 0/1 columns; exposed as the multi-label label ``attributes``
    attribute_columns: list[str] = Field(default_factory=list)
    image_size: int = Field(128, ge=8)
    on_corrupt: OnCorrupt = "error"
    #: a bad row of the dataset's lists (a missing or unreadable field, a split or label not known, a
    #: path outside the root): error names it; skip leaves it out and counts it (skipped_rows)
    on_bad_row: OnBadRow = "error"

    @model_validator(mode="after")
    def _some_label(self):
        if self.label_column is None and not self.attribute_columns:
            raise ValueError("name a label_column, attribute_columns, or both")
        return self


# ------------------------------------------------------------------ face detectors
class LbpCascadeParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    #: rows of the copy searched; a face of 8 % of 360 rows is 29 px, above the cascade's 24 px window
    detect_height: int = Field(360, ge=48)
    #: the ratio of one search scale to the next
    scale_factor: float = Field(1.2, gt=1)
    #: the window's step (in pixels at its smallest size) of the first search
    step_ratio: float = Field(1.25, gt=0)
    #: the step of a second, finer search of a frame where the first found nothing (small faces
    #: need it; twice as slow); null: none
    fine_step_ratio: float | None = Field(1.0, gt=0)


class DlibCnnParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    #: rows of the copy searched; with one upsampling the smallest face is about 40 px (11 % of 360 rows)
    detect_height: int = Field(360, ge=48)
    #: times the copy is doubled before the search (each halves the smallest face found, and quadruples the time)
    upsample: int = Field(1, ge=0, le=3)


class DlibHogParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    #: rows of the copy searched; with one upsampling the smallest face is 40 px (8 % of 500 rows)
    detect_height: int = Field(540, ge=48)
    #: times the copy is doubled before the search (each halves the smallest face found)
    upsample: int = Field(1, ge=0, le=3)
