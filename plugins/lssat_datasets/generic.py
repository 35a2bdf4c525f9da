"""Any labelled images: one folder per class, or a CSV of paths and labels."""

from __future__ import annotations

from pathlib import Path

from lssat_framework.errors import DataError
from lssat_framework.interfaces import DatasetInfo, LabelInfo

from .files import FileSource, Sample, class_order, images_in, listing, require_dir, subfolders
from .params import ImageCSVParams, ImageFolderParams
from .rows import SPLITS, BadRow, Rows, inside, one_of


class ImageFolder(FileSource):
    """Multi-class images, one folder per class; the label is called ``class``. Hidden folders
    (``.ipynb_checkpoints``) are not classes; integer class names are ordered by number."""

    title = "image-folder"

    def __init__(self, **params):
        self.params = p = ImageFolderParams(**params)
        root = require_dir(Path(p.root), "image-folder")
        require_dir(root / "train", "image-folder")
        require_dir(root / "val", "image-folder")
        self.splits = tuple(s for s in ("train", "val", "test") if (root / s).is_dir())
        classes = class_order(d.name for d in subfolders(root / "train"))
        if not classes:
            raise DataError(f"image-folder: {root / 'train'} has no class folders; it holds: {listing(root / 'train')}")
        self.by_split, self.empty_reasons = {}, {}
        for split in self.splits:
            samples = []
            for class_dir in subfolders(root / split):
                if class_dir.name not in classes:
                    raise DataError(f"image-folder: class {class_dir} is not among the training classes {classes}")
                samples += [Sample(path, {"class": classes.index(class_dir.name)}) for path in images_in(class_dir)]
            self.by_split[split] = samples
            self.empty_reasons[split] = f"no image in the class folders of {root / split}, which holds: {listing(root / split)}"
        self.info = DatasetInfo(labels={"class": LabelInfo("multiclass", classes)}, image_size=(p.image_size, p.image_size))


class ImageCSV(FileSource):
    """Images listed in a CSV, with a class column and/or 0/1 attribute columns. Integer class
    names are ordered by number. Paths are relative to the CSV's folder and stay inside it; a
    row's split is train, val or test; a bad row is an error naming its line, or skipped
    (``on_bad_row: skip``)."""

    title = "image-csv"

    def __init__(self, **params):
        self.params = p = ImageCSVParams(**params)
        path = Path(p.csv)
        if not path.is_file():
            raise DataError(f"image-csv: the file {path} does not exist")
        rows = Rows(self.title, p.on_bad_row)
        wanted = [p.path_column, p.split_column, *([p.label_column] if p.label_column else []), *p.attribute_columns]
        _, listed = rows.csv(path, wanted, lambda row: self._row(row, path.parent))
        classes = class_order(name for _, _, name, _ in listed) if p.label_column else []
        self.by_split: dict[str, list[Sample]] = {}
        for split, image, name, attributes in listed:
            labels = {}
            if p.label_column:
                labels["class"] = classes.index(name)
            if p.attribute_columns:
                labels["attributes"] = attributes
            self.by_split.setdefault(split, []).append(Sample(image, labels))
        if "train" not in self.by_split or "val" not in self.by_split:
            raise DataError(f"{path}: the split column must name 'train' and 'val' rows; found {sorted(self.by_split)}")
        self.splits = tuple(s for s in SPLITS if s in self.by_split)
        labels = {}
        if p.label_column:
            labels["class"] = LabelInfo("multiclass", classes)
        if p.attribute_columns:
            labels["attributes"] = LabelInfo("multilabel", list(p.attribute_columns))
        self.info = DatasetInfo(labels=labels, image_size=(p.image_size, p.image_size), skipped_rows=rows.skipped)
        rows.warn_skipped()

    def _row(self, row: dict[str, str], folder: Path) -> tuple[str, Path, str | None, list[float]]:
        """(split, image, class name, attribute values) of one row."""
        p = self.params
        split = one_of(row[p.split_column].strip(), SPLITS, f"the {p.split_column}")
        image = inside(folder, row[p.path_column].strip(), f"{p.path_column}")
        name = None
        if p.label_column:
            name = row[p.label_column].strip()
            if not name:
                raise BadRow(f"the {p.label_column} is empty")
        values = [row[c].strip() for c in p.attribute_columns]
        if any(v not in ("0", "1") for v in values):
            raise BadRow(f"attribute columns hold 0 or 1, got {dict(zip(p.attribute_columns, values))}")
        return split, image, name, [float(v) for v in values]
