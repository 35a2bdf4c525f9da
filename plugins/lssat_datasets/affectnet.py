"""AffectNet, as its archives unpack or reorganised one folder per class.

Distributed: ``Manually_Annotated_Images/<sub>/<file>.jpg`` (or inside ``Manually_Annotated/``) with
``training.csv`` and ``validation.csv`` at the root or in ``Manually_Annotated_file_lists/``
(columns ``subDirectory_filePath, face_x, face_y, face_width, face_height, facial_landmarks,
expression, valence, arousal``). Expression codes: 0 Neutral, 1 Happy, 2 Sad, 3 Surprise, 4 Fear,
5 Disgust, 6 Anger, 7 Contempt, 8 None, 9 Uncertain, 10 No-Face; ``classes: 7`` keeps 0–6,
``classes: 8`` keeps 0–7, the rest are left out. Images are cropped to the face box. The official
test set is not public: ``validation.csv`` serves as ``val`` and ``test``.

The later release: ``train_set/`` and ``val_set/``, each with ``images/<id>.jpg`` (face crops) and
``annotations/<id>_exp.npy`` (the expression code); ``val_set`` serves as ``val`` and ``test``.

Folder per class: ``<root>/<split>/<class>/*.jpg`` with split ``train``, ``val`` (or
``validation``) and optionally ``test``; class folders named by code (``0`` … ``7``) or by name
(``happy``, ``Happy``, …).
"""

from __future__ import annotations

from pathlib import Path

from lssat_framework.errors import DataError
from lssat_framework.interfaces import DatasetInfo, LabelInfo

from .files import FileSource, Sample, images_in, listing, require_dir, subfolders
from .params import AffectNetParams
from .rows import BadRow, Rows, inside, integer, number

EXPRESSIONS = ["Neutral", "Happy", "Sad", "Surprise", "Fear", "Disgust", "Anger", "Contempt"]
#: codes AffectNet uses beyond the eight expressions
NON_EXPRESSIONS = {8: "None", 9: "Uncertain", 10: "No-Face"}
COLUMNS = ("subDirectory_filePath", "face_x", "face_y", "face_width", "face_height", "expression")


class AffectNet(FileSource):
    """AffectNet expressions, 7 or 8 classes."""

    splits = ("train", "val", "test")
    title = "AffectNet"

    def __init__(self, **params):
        self.params = p = AffectNetParams(**params)
        root = require_dir(Path(p.root), "AffectNet")
        self.empty_reasons = {}
        self.rows = Rows(self.title, p.on_bad_row)
        if _lists_folder(root) is not None or _images_folder(root) is not None:
            self.by_split = self._distributed(root)
        elif (root / "train_set").is_dir():
            self.by_split = self._release_sets(root)
        elif (root / "train").is_dir():
            self.by_split = self._folders(root)
        else:
            found = listing(root)
            raise DataError(
                f"AffectNet: expected {root / 'Manually_Annotated_file_lists/training.csv'} (or {root / 'training.csv'}) with "
                f"{root / 'Manually_Annotated_Images'}, {root / 'train_set/annotations'}, or class folders under {root / 'train'}; "
                f"{root} holds: {found}"
            )
        for samples in self.by_split.values():
            if p.limit is not None:
                del samples[p.limit :]
        labels = {"expression": LabelInfo("multiclass", EXPRESSIONS[: p.classes])}
        self.info = DatasetInfo(labels=labels, image_size=(p.image_size, p.image_size), skipped_rows=self.rows.skipped)
        self.rows.warn_skipped()

    def _distributed(self, root: Path) -> dict[str, list[Sample]]:
        images = _images_folder(root) or require_dir(root / "Manually_Annotated_Images", "AffectNet")
        lists = _lists_folder(root)
        if lists is None:
            raise DataError(f"AffectNet: expected the lists {root / 'Manually_Annotated_file_lists/training.csv'} (or {root / 'training.csv'}) beside {images}")
        train = self._read_list(lists / "training.csv", images)
        val = self._read_list(lists / "validation.csv", images)
        kept = f"no row with one of the {self.params.classes} kept expression codes (0–{self.params.classes - 1})"
        self.empty_reasons = {"train": f"{lists / 'training.csv'} has {kept}", "val": f"{lists / 'validation.csv'} has {kept}"}
        self.empty_reasons["test"] = self.empty_reasons["val"]
        return {"train": train, "val": val, "test": list(val)}

    def _read_list(self, path: Path, images: Path) -> list[Sample]:
        if not path.is_file():
            raise DataError(f"AffectNet: expected the list {path}")
        return self.rows.csv(path, COLUMNS, lambda row: self._row(row, images))[1]

    def _row(self, row: dict[str, str], images: Path) -> Sample | None:
        """One row's sample; None for a code outside the chosen classes."""
        code = integer(row["expression"].strip(), "expression")
        if code in NON_EXPRESSIONS or (self.params.classes <= code < len(EXPRESSIONS)):
            return None  # not an expression of the chosen set
        if not 0 <= code < len(EXPRESSIONS):
            raise BadRow(f"expression code {code} is outside 0–10")
        image = inside(images, row["subDirectory_filePath"].strip(), "subDirectory_filePath")
        box = None
        if self.params.crop_face:
            box = tuple(number(row[k], k) for k in ("face_x", "face_y", "face_width", "face_height"))
            if box[2] <= 0 or box[3] <= 0:
                raise BadRow(f"the face box {box} is empty (face_width and face_height must be above 0)")
        return Sample(image, {"expression": code}, box=box)

    def _release_sets(self, root: Path) -> dict[str, list[Sample]]:
        """``train_set``/``val_set`` with ``images/<id>.jpg`` and ``annotations/<id>_exp.npy``."""
        by_split = {"train": self._read_set(root / "train_set"), "val": self._read_set(require_dir(root / "val_set", "AffectNet"))}
        for split, folder in (("train", "train_set"), ("val", "val_set")):
            self.empty_reasons[split] = f"{root / folder / 'annotations'} has no *_exp.npy with one of the {self.params.classes} kept expression codes"
        self.empty_reasons["test"] = self.empty_reasons["val"]
        return {**by_split, "test": list(by_split["val"])}

    def _read_set(self, folder: Path) -> list[Sample]:
        import numpy as np

        annotations, images = require_dir(folder / "annotations", "AffectNet"), require_dir(folder / "images", "AffectNet")
        samples = []
        for path in sorted(annotations.glob("*_exp.npy")):
            try:
                code = int(np.load(path))
            except (OSError, ValueError, TypeError) as exc:
                raise DataError(f"AffectNet: {path} should hold one expression code ({type(exc).__name__}: {exc})") from None
            if not 0 <= code < self.params.classes:
                continue  # not an expression of the chosen set
            image = images / f"{path.name[: -len('_exp.npy')]}.jpg"
            if not image.is_file():
                raise DataError(f"AffectNet: {path} has no image; expected {image}")
            samples.append(Sample(image, {"expression": code}))
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


def _lists_folder(root: Path) -> Path | None:
    """Where ``training.csv`` is: the root, or ``Manually_Annotated_file_lists/`` as it unpacks."""
    for folder in (root, root / "Manually_Annotated_file_lists"):
        if (folder / "training.csv").is_file():
            return folder
    return None


def _images_folder(root: Path) -> Path | None:
    for folder in (root / "Manually_Annotated_Images", root / "Manually_Annotated" / "Manually_Annotated_Images"):
        if folder.is_dir():
            return folder
    return None
