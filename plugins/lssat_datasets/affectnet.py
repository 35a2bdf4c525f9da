"""AffectNet, as distributed or reorganised one folder per class.

Distributed: ``Manually_Annotated_Images/<sub>/<file>.jpg`` with ``training.csv`` and
``validation.csv`` (columns ``subDirectory_filePath, face_x, face_y, face_width, face_height,
facial_landmarks, expression, valence, arousal``). Expression codes: 0 Neutral, 1 Happy, 2 Sad,
3 Surprise, 4 Fear, 5 Disgust, 6 Anger, 7 Contempt, 8 None, 9 Uncertain, 10 No-Face; ``classes: 7``
keeps 0–6, ``classes: 8`` keeps 0–7, the rest are left out. Images are cropped to the face box.
The official test set is not public: ``validation.csv`` serves as ``val`` and ``test``.

Folder per class: ``<root>/<split>/<class>/*.jpg`` with split ``train``, ``val`` (or
``validation``) and optionally ``test``; class folders named by code (``0`` … ``7``) or by name
(``happy``, ``Happy``, …).
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from lssat_framework.errors import DataError
from lssat_framework.interfaces import DatasetInfo, LabelInfo

from .files import FileSource, OnCorrupt, Sample, images_in, listing, require_dir, subfolders

EXPRESSIONS = ["Neutral", "Happy", "Sad", "Surprise", "Fear", "Disgust", "Anger", "Contempt"]
#: codes AffectNet uses beyond the eight expressions
NON_EXPRESSIONS = {8: "None", 9: "Uncertain", 10: "No-Face"}
COLUMNS = ("subDirectory_filePath", "face_x", "face_y", "face_width", "face_height", "expression")


class AffectNetParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    root: Path
    classes: Literal[7, 8] = 7
    image_size: int = Field(112, ge=8)
    #: crop to the annotated face box (distributed layout)
    crop_face: bool = True
    limit: int | None = Field(None, ge=1)
    on_corrupt: OnCorrupt = "error"


class AffectNet(FileSource):
    """AffectNet expressions, 7 or 8 classes."""

    splits = ("train", "val", "test")
    title = "AffectNet"

    def __init__(self, **params):
        self.params = p = AffectNetParams(**params)
        root = require_dir(Path(p.root), "AffectNet")
        self.empty_reasons = {}
        if (root / "training.csv").is_file() or (root / "Manually_Annotated_Images").is_dir():
            self.by_split = self._distributed(root)
        elif (root / "train").is_dir():
            self.by_split = self._folders(root)
        else:
            found = listing(root)
            raise DataError(
                f"AffectNet: expected {root / 'training.csv'} with {root / 'Manually_Annotated_Images'}, "
                f"or class folders under {root / 'train'}; {root} holds: {found}"
            )
        for samples in self.by_split.values():
            if p.limit is not None:
                del samples[p.limit :]
        self.info = DatasetInfo(labels={"expression": LabelInfo("multiclass", EXPRESSIONS[: p.classes])}, image_size=(p.image_size, p.image_size))

    def _distributed(self, root: Path) -> dict[str, list[Sample]]:
        images = require_dir(root / "Manually_Annotated_Images", "AffectNet")
        train = self._read_list(root / "training.csv", images)
        val = self._read_list(root / "validation.csv", images)
        kept = f"no row with one of the {self.params.classes} kept expression codes (0–{self.params.classes - 1})"
        self.empty_reasons = {"train": f"{root / 'training.csv'} has {kept}", "val": f"{root / 'validation.csv'} has {kept}"}
        self.empty_reasons["test"] = self.empty_reasons["val"]
        return {"train": train, "val": val, "test": list(val)}

    def _read_list(self, path: Path, images: Path) -> list[Sample]:
        if not path.is_file():
            raise DataError(f"AffectNet: expected the list {path}")
        samples = []
        with open(path, newline="") as handle:
            reader = csv.DictReader(handle)
            missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
            if missing:
                raise DataError(f"{path}: missing columns {missing}; the header is {reader.fieldnames}")
            for line, row in enumerate(reader, start=2):
                try:
                    code = int(row["expression"])
                except ValueError:
                    raise DataError(f"{path}:{line}: expression must be an integer code, got {row['expression']!r}") from None
                if code in NON_EXPRESSIONS or (self.params.classes <= code < len(EXPRESSIONS)):
                    continue  # not an expression of the chosen set
                if not 0 <= code < len(EXPRESSIONS):
                    raise DataError(f"{path}:{line}: expression code {code} is outside 0–10")
                box = None
                if self.params.crop_face:
                    box = tuple(float(row[k]) for k in ("face_x", "face_y", "face_width", "face_height"))
                samples.append(Sample(images / row["subDirectory_filePath"], {"expression": code}, box=box))
        return samples

    def _folders(self, root: Path) -> dict[str, list[Sample]]:
        names = {name.lower(): code for code, name in enumerate(EXPRESSIONS)}
        by_split: dict[str, list[Sample]] = {}
        for split, folder_names in {"train": ["train"], "val": ["val", "validation"], "test": ["test"]}.items():
            folder = next((root / n for n in folder_names if (root / n).is_dir()), None)
            if folder is None:
                continue
            samples = []
            self.empty_reasons[split] = f"no image of the {self.params.classes} kept expressions in the class folders of {folder}, which holds: {listing(folder)}"
            for class_dir in subfolders(folder):
                key = class_dir.name.lower()
                code = int(key) if key.isdigit() else names.get(key)
                if code is None or code >= len(EXPRESSIONS):
                    raise DataError(f"AffectNet: class folder {class_dir} is neither an expression code 0–7 nor a name in {EXPRESSIONS}")
                if code >= self.params.classes:
                    continue
                samples += [Sample(path, {"expression": code}) for path in images_in(class_dir)]
            by_split[split] = samples
        if "val" not in by_split:
            raise DataError(f"AffectNet: expected {root / 'val'} (or validation) beside {root / 'train'}")
        by_split.setdefault("test", list(by_split["val"]))
        self.empty_reasons.setdefault("test", self.empty_reasons["val"])
        return by_split
