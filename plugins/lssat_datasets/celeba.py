"""CelebA in the official layout or the common CSV copy.

Official: ``img_align_celeba/NNNNNN.jpg``, ``list_attr_celeba.txt`` (a count line, a line of 40
attribute names, then ``name ±1 ×40`` separated by runs of spaces) and ``list_eval_partition.txt``
(``name 0|1|2``: train, val, test). CSV copy: ``list_attr_celeba.csv`` and
``list_eval_partition.csv`` with an ``image_id`` column, images in ``img_align_celeba/`` or the
nested ``img_align_celeba/img_align_celeba/``. No checksum is checked.
"""

from __future__ import annotations

from pathlib import Path

from lssat_framework.errors import DataError
from lssat_framework.interfaces import DatasetInfo, LabelInfo

from .files import FileSource, Sample, listing, require_dir, warn
from .params import CelebAParams
from .rows import BadRow, Rows, inside, integer, numbered_lines

SPLITS = {"train": 0, "val": 1, "test": 2}


#: the attribute names, each image's values, each image's partition code
Lists = tuple[list[str], dict[str, list[int]], dict[str, int]]


def _read_txt(root: Path, rows: Rows) -> Lists:
    path = root / "list_attr_celeba.txt"
    lines = list(numbered_lines(path))
    if len(lines) < 2:
        raise DataError(f"{path}: expected a count line and a line of attribute names")
    names = lines[1][1].split()

    def attributes(line: str) -> tuple[str, list[int]]:
        parts = line.split()
        if len(parts) != len(names) + 1:
            raise BadRow(f"expected a file name and {len(names)} values, got {len(parts)} fields")
        return _image_name(parts[0]), [_pm1(v) for v in parts[1:]]

    def split(line: str) -> tuple[str, int]:
        parts = line.split()
        if len(parts) != 2:
            raise BadRow(f"expected '<file name> <0|1|2>', got {line!r}")
        return _image_name(parts[0]), _code(parts[1])

    partition_file = root / "list_eval_partition.txt"
    if not partition_file.is_file():
        raise DataError(f"CelebA: expected {partition_file} beside list_attr_celeba.txt")
    return names, dict(rows.each(lines[2:], attributes)), dict(rows.lines(partition_file, split))


def _read_csv(root: Path, rows: Rows) -> Lists:
    def attributes(row: dict[str, str]) -> tuple[str, list[int]]:
        return _image_name(row["image_id"]), [_pm1(v) for k, v in row.items() if k != "image_id"]

    header, listed = rows.csv(root / "list_attr_celeba.csv", ["image_id"], attributes)
    partition_file = root / "list_eval_partition.csv"
    if not partition_file.is_file():
        raise DataError(f"CelebA: expected {partition_file} beside list_attr_celeba.csv")
    _, partition = rows.csv(partition_file, ["image_id", "partition"], lambda r: (_image_name(r["image_id"]), _code(r["partition"])))
    return [n for n in header if n != "image_id"], dict(listed), dict(partition)


def _image_name(text: str) -> str:
    """An image's name as the lists give it, checked to stay inside the image folder."""
    inside(Path("img_align_celeba"), text.strip(), "image name")
    return text.strip()


def _code(text: str) -> int:
    code = integer(text.strip(), "the partition code")
    if code not in SPLITS.values():
        raise BadRow(f"the partition code is 0 (train), 1 (val) or 2 (test), got {code}")
    return code


def _pm1(value: str) -> int:
    if value.strip() not in ("1", "-1", "0"):
        raise BadRow(f"attribute values are 1 or -1, got {value!r}")
    return 1 if value.strip() == "1" else 0


class CelebA(FileSource):
    """CelebA attributes (40 binary labels), train/val/test as the official partition. Rows with
    no split in the partition file, or whose image is not in the image folder, are left out with
    a warning that counts them."""

    splits = ("train", "val", "test")
    title = "CelebA"

    def __init__(self, **params):
        self.params = p = CelebAParams(**params)
        root = require_dir(Path(p.root), "CelebA")
        bad_rows = Rows(self.title, p.on_bad_row)
        if (root / "list_attr_celeba.txt").is_file():
            names, rows, partition = _read_txt(root, bad_rows)
            partition_file = root / "list_eval_partition.txt"
        elif (root / "list_attr_celeba.csv").is_file():
            names, rows, partition = _read_csv(root, bad_rows)
            partition_file = root / "list_eval_partition.csv"
        else:
            found = listing(root)
            raise DataError(f"CelebA: expected {root / 'list_attr_celeba.txt'} (or list_attr_celeba.csv); {root} holds: {found}")
        images = require_dir(root / "img_align_celeba", "CelebA")
        if (images / "img_align_celeba").is_dir():  # the CSV copy nests the folder
            images = images / "img_align_celeba"
        wanted = p.attributes or names
        unknown = [a for a in [*wanted, *p.groups] if a not in names]
        if unknown:
            raise DataError(f"CelebA: unknown attributes {unknown}; the file has {names}")
        columns = [names.index(a) for a in wanted]
        group_columns = {g: names.index(g) for g in p.groups}
        listed = self._listed(rows, partition, partition_file, images)
        self.by_split = {
            split: [
                Sample(images / name, {"attributes": [float(rows[name][c]) for c in columns]}, groups={g: rows[name][c] for g, c in group_columns.items()})
                for name in split_names
            ]
            for split, split_names in listed.items()
        }
        if p.limit is not None:
            for samples in self.by_split.values():
                del samples[p.limit :]
        train = [s.labels["attributes"] for s in self.by_split["train"]]
        rates = [sum(column) / len(train) for column in zip(*train)] if train else None
        self.info = DatasetInfo(
            labels={"attributes": LabelInfo("multilabel", list(wanted), positive_rate=rates)},
            image_size=(p.image_size, p.image_size),
            groups={g: [f"not {g}", g] for g in p.groups},
            skipped_rows=bad_rows.skipped,
        )
        bad_rows.warn_skipped()

    def _listed(self, rows: dict, partition: dict[str, int], partition_file: Path, images: Path) -> dict[str, list[str]]:
        """The image names of each split; records why a split is empty and warns of rows left out."""
        present = {entry.name for entry in images.iterdir()}  # one listing, not a file check per row
        code_to_split = {v: k for k, v in SPLITS.items()}
        listed: dict[str, list[str]] = {s: [] for s in SPLITS}
        absent: dict[str, list[str]] = {s: [] for s in SPLITS}
        unsplit = []
        for name in rows:
            split = code_to_split.get(partition.get(name, -1))
            if split is None:
                unsplit.append(name)
            elif name in present or (images / name).is_file():
                listed[split].append(name)
            else:
                absent[split].append(name)
        if unsplit:
            warn(f"CelebA: {len(unsplit)} of {len(rows)} attribute rows have no split 0, 1 or 2 in {partition_file} and are left out, e.g. {unsplit[0]!r}")
        missing = [name for names in absent.values() for name in names]
        if missing:
            warn(f"CelebA: {len(missing)} listed images are not in {images} and are left out, e.g. {missing[0]!r}")
        self.empty_reasons = {}
        for split, code in SPLITS.items():
            if absent[split]:
                self.empty_reasons[split] = (
                    f"none of its {len(absent[split])} images is in {images} (e.g. {absent[split][0]!r}; that folder holds: {listing(images)})"
                )
            else:
                unsplit_note = f"; {len(unsplit)} attribute rows have no split there, e.g. {unsplit[0]!r}" if unsplit else ""
                self.empty_reasons[split] = f"{partition_file} assigns no image to it (partition code {code}){unsplit_note}"
        return listed
