"""Reading a dataset's list files (text lists, CSVs, JSON) row by row.

Every list is read as UTF-8 (a byte order mark, as spreadsheets write it, is tolerated); a file in
another encoding is an error naming the file and the line of the first byte that is not UTF-8.
Each row is known by where it is (``FILE:LINE``, or ``FILE at KEY PATH`` in a JSON file). A
reader parses one row in a function that raises :class:`BadRow` saying what is wrong with it;
:class:`Rows` turns that into one :class:`DataError` naming the row (``on_bad_row: error``) or
leaves the row out and records ``"FILE:LINE: reason"`` (``on_bad_row: skip``), warned of once.

A path read from a list is joined onto its folder only through :func:`inside`: an absolute path,
an empty one, or one whose ``..`` leave the folder is a bad row, never opened or written.
"""

from __future__ import annotations

import csv
import io
import json
import os
from dataclasses import dataclass, field
from difflib import get_close_matches
from pathlib import Path
from typing import Any, Callable, Iterable, TypeVar

from lssat_framework.errors import DataError
from lssat_framework.files.safe import resolve_inside

T = TypeVar("T")

#: the splits a list may name
SPLITS = ("train", "val", "test")


class BadRow(Exception):
    """What is wrong with one row of a list; raised by a reader's row parser."""


# ------------------------------------------------------------------ reading files
def read_text(path: Path) -> str:
    """The file as UTF-8 text (a byte order mark dropped); another encoding is a :class:`DataError`
    naming the file and the line of the first byte that is not UTF-8."""
    data = Path(path).read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise DataError(f"{path}:{line}: not UTF-8 (byte 0x{data[exc.start]:02x}): save it as UTF-8") from None


def read_json(path: Path) -> Any:
    try:
        return json.loads(read_text(path))
    except json.JSONDecodeError as exc:
        raise DataError(f"{path}:{exc.lineno}: not JSON ({exc.msg} at column {exc.colno})") from None


def numbered_lines(path: Path) -> Iterable[tuple[str, str]]:
    """(``FILE:LINE``, the line stripped) of each line that is not blank."""
    for number, line in enumerate(read_text(path).split("\n"), start=1):
        if line.strip():
            yield f"{path}:{number}", line.strip()


def csv_table(path: Path, columns: Iterable[str]) -> tuple[list[str], list[tuple[str, list[str]]]]:
    """The header and (``FILE:LINE``, fields) of each row that is not blank. A header without
    one of ``columns`` is an error: no row could be read."""
    reader = csv.reader(io.StringIO(read_text(path), newline=""))
    header = next(reader, None) or []
    missing = [c for c in columns if c not in header]
    if missing:
        raise DataError(f"{path}: missing columns {missing}; the header is {header}")
    return header, [(f"{path}:{reader.line_num}", fields) for fields in reader if fields]


def record(fields: list[str], header: list[str]) -> dict[str, str]:
    """One CSV row as {column: value}; a row with fewer fields than the header, or more that are
    not empty (a comma in an unquoted value), is a :class:`BadRow`."""
    if len(fields) < len(header):
        raise BadRow(f"{len(fields)} fields where the header has {len(header)}: no value for {header[len(fields)]!r}")
    if any(value.strip() for value in fields[len(header) :]):
        raise BadRow(f"{len(fields)} fields where the header has {len(header)} (a comma in a value that is not quoted?)")
    return dict(zip(header, fields))


def key_path(*keys: Any) -> str:
    """Where a value is in a JSON file, e.g. ``["FF-DF"]["FF-real"]["train"]["000"]["frames"][2]``."""
    return "".join(f"[{json.dumps(key)}]" for key in keys)


# ------------------------------------------------------------------ checking values
def within(root: Path, path: str | Path) -> Path | None:
    """``path`` (relative to ``root``, or absolute and lexically under it) as a path inside
    ``root``; None when it leads outside. A lexical check, as :func:`resolve_inside`'s."""
    text = os.path.normpath(str(path))
    if os.path.isabs(text):
        try:
            text = os.path.relpath(text, os.path.abspath(root))
        except ValueError:  # another drive
            return None
    return resolve_inside(root, text)


def inside(root: Path, text: Any, what: str = "path", absolute: bool = False) -> Path:
    """``root / text`` for a path read from a list; :class:`BadRow` when it is empty, absolute
    (unless ``absolute`` and under ``root``) or leaves ``root`` with ``..``. Windows separators
    are read as ``/``."""
    if not isinstance(text, str) or not text.strip():
        raise BadRow(f"the {what} is empty" if isinstance(text, str) else f"the {what} should be a string, got {text!r}")
    text = text.replace("\\", "/")
    if os.path.isabs(text) and not absolute:
        raise BadRow(f"the {what} {text!r} is absolute; it should be relative to {root}")
    path = within(root, text)
    if path is None:
        raise BadRow(f"the {what} {text!r} leads outside {root}")
    return path


def integer(text: Any, what: str) -> int:
    try:
        return int(text)
    except (TypeError, ValueError):
        raise BadRow(f"{what} must be an integer, got {text!r}") from None


def number(text: Any, what: str) -> float:
    try:
        value = float(text)
    except (TypeError, ValueError):
        value = float("nan")
    if value != value or value in (float("inf"), float("-inf")):
        raise BadRow(f"{what} must be a number, got {text!r}")
    return value


def one_of(value: Any, allowed: Iterable[str], what: str) -> str:
    """``value`` when it is one of ``allowed``; else a :class:`BadRow` that suggests the closest."""
    allowed = list(allowed)
    if value in allowed:
        return value
    if value is None or value == "":
        raise BadRow(f"{what} is missing (one of {allowed})")
    close = get_close_matches(str(value), allowed, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    raise BadRow(f"{what} {value!r} is not one of {allowed}{hint}")


# ------------------------------------------------------------------ error or skip
@dataclass
class Rows:
    """The bad rows of one dataset's lists: each one error (``on_bad_row: error``), or left out
    and recorded as ``"FILE:LINE: reason"`` in ``skipped`` (``skip``)."""

    #: the dataset's name in the warning
    title: str
    on_bad_row: str = "error"
    #: how to leave bad rows out, said with the error ("" where there is no such choice)
    hint: str = "; data.params.on_bad_row: skip leaves such rows out"
    skipped: list[str] = field(default_factory=list)

    def bad(self, where: str, reason: str) -> None:
        if self.on_bad_row == "error":
            raise DataError(f"{where}: {reason}{self.hint}")
        self.skipped.append(f"{where}: {reason}")

    def each(self, rows: Iterable[tuple[str, Any]], parse: Callable[[Any], T | None]) -> list[T]:
        """``parse`` of each (where, row); a row it refuses with :class:`BadRow` is an error or
        left out; one it returns None for is left out as the dataset intends (e.g. a class not used)."""
        kept = []
        for where, row in rows:
            try:
                value = parse(row)
            except BadRow as exc:
                self.bad(where, str(exc))
                continue
            if value is not None:
                kept.append(value)
        return kept

    def lines(self, path: Path, parse: Callable[[str], T | None]) -> list[T]:
        """``parse`` of each line of a text list that is not blank (stripped)."""
        return self.each(numbered_lines(path), parse)

    def csv(self, path: Path, columns: Iterable[str], parse: Callable[[dict[str, str]], T | None]) -> tuple[list[str], list[T]]:
        """The header and ``parse`` of each row of a CSV as {column: value}; ``columns`` must be
        in the header."""
        header, table = csv_table(path, columns)
        return header, self.each(table, lambda fields: parse(record(fields, header)))

    def warn_skipped(self) -> None:
        """Once per dataset: how many rows were left out, and the first."""
        from .files import warn  # with the readers (torch): not when only prepare's lists are read

        if self.skipped:
            count = len(self.skipped)
            warn(f"{self.title}: {count} bad row{'s' if count != 1 else ''} of its lists left out (on_bad_row: skip), e.g. {self.skipped[0]}")
