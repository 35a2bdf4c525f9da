"""CelebA in the official layout or the common CSV copy.

Official: ``img_align_celeba/NNNNNN.jpg``, ``list_attr_celeba.txt`` (a count line, a line of 40
attribute names, then ``name ±1 ×40`` separated by runs of spaces) and ``list_eval_partition.txt``
(``name 0|1|2``: train, val, test). CSV copy: ``list_attr_celeba.csv`` and
``list_eval_partition.csv`` with an ``image_id`` column, images in ``img_align_celeba/`` or the
nested ``img_align_celeba/img_align_celeba/``. No checksum is checked.
"""

from __future__ import annotations

import csv
from pathlib import Path

from lssat_framework.errors import DataError
from lssat_framework.interfaces import DatasetInfo, LabelInfo

from .files import FileSource, Sample, listing, require_dir, warn
from .params import CelebAParams

SPLITS = {"train": 0, "val": 1, "test": 2}


def _read_txt(root: Path) -> tuple[list[str], dict[str, list[int]], dict[str, int]]:
    lines = (root / "list_attr_celeba.txt").read_text().splitlines()
    if len(lines) < 2:
        raise DataError(f"{root / 'list_attr_celeba.txt'}: expected a count line and a line of attribute names")
    names = lines[1].split()
    rows = {}
    for number, line in enumerate(lines[2:], start=3):
        parts = line.split()
        if not parts:
            continue
        if len(parts) != len(names) + 1:
            raise DataError(f"{root / 'list_attr_celeba.txt'}:{number}: expected a file name and {len(names)} values, got {len(parts)} fields")
        rows[parts[0]] = [_pm1(v, root / "list_attr_celeba.txt", number) for v in parts[1:]]
    partition_file = root / "list_eval_partition.txt"
    if not partition_file.is_file():
        raise DataError(f"CelebA: expected {partition_file} beside list_attr_celeba.txt")
    partition = {}
    for line in partition_file.read_text().splitlines():
        parts = line.split()
        if len(parts) == 2:
            partition[parts[0]] = int(parts[1])
    return names, rows, partition


def _read_csv(root: Path) -> tuple[list[str], dict[str, list[int]], dict[str, int]]:
    with open(root / "list_attr_celeba.csv", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        names = header[1:]
        rows = {r[0]: [_pm1(v, root / "list_attr_celeba.csv", i) for v in r[1:]] for i, r in enumerate(reader, start=2) if r}
    partition_file = root / "list_eval_partition.csv"
    if not partition_file.is_file():
        raise DataError(f"CelebA: expected {partition_file} beside list_attr_celeba.csv")
    with open(partition_file, newline="") as handle:
        partition = {r["image_id"]: int(r["partition"]) for r in csv.DictReader(handle)}
    return names, rows, partition


def _pm1(value: str, path: Path, line: int) -> int:
    if value not in ("1", "-1", "0"):
        raise DataError(f"{path}:{line}: attribute values are 1 or -1, got {value!r}")
    return 1 if value == "1" else 0


class CelebA(FileSource):
    """CelebA attributes (40 binary labels), train/val/test as the official partition. Rows with
    no split in the partition file, or whose image is not in the image folder, are left out with
    a warning that counts them."""

    splits = ("train", "val", "test")
    title = "CelebA"

    def __init__(self, **params):
        self.params = p = CelebAParams(**params)
        root = require_dir(Path(p.root), "CelebA")
        if (root / "list_attr_celeba.txt").is_file():
            names, rows, partition = _read_txt(root)
            partition_file = root / "list_eval_partition.txt"
        elif (root / "list_attr_celeba.csv").is_file():
            names, rows, partition = _read_csv(root)
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
        )

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
