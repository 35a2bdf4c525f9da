"""Writing and deleting only where the user pointed.

Run and sweep folders may come from someone else (copied, shared, on a common filesystem). The
framework's own files in them have fixed names, and a planted symlink under such a name would
redirect a write or a delete anywhere the user can write. So:

- a folder the framework writes is refused when anything inside it is a symlink
  (:func:`refuse_symlinks`); files are created with ``O_NOFOLLOW`` and replaced by rename
  (:func:`write_text_atomic`, :func:`append_line`), which never follows a link either;
- a name taken from a spec or a grid becomes a folder name only through :func:`slug`, and is
  checked by :func:`check_name`;
- a path read from a dataset list stays inside its root (:func:`resolve_inside`);
- every tree the framework deletes lies inside the folder that owns it (:func:`remove_tree`).
"""

from __future__ import annotations

import errno
import os
import re
import shutil
import uuid
from pathlib import Path

from ..errors import LssatError

#: what a ``name:`` may be: letters, digits and ``-_.``, not starting with a dot
NAME_PATTERN = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9_.-]*")


class UnsafePathError(LssatError):
    """A path would lead a write, read or delete outside the folder it belongs to."""


def check_name(name: str) -> str | None:
    """Why ``name`` cannot name a folder (None: it can)."""
    if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name):
        return f"'{name}' is not a folder name: use letters, digits and '-', '_' or '.', not starting with '.' (no '/', no spaces)"
    return None


def slug(label: str) -> str:
    """``label`` made into one folder name: runs of other characters become one '-', never
    empty, never starting or ending with a dot or '-' (so never '.' or '..')."""
    text = re.sub(r"[^A-Za-z0-9_.+-]+", "-", label).strip("-.")
    return text or "x"


def is_inside(root: Path, path: Path) -> bool:
    """Whether ``path`` resolves (links followed) strictly inside ``root``."""
    root, path = Path(root).resolve(), Path(path).resolve()
    return path != root and path.is_relative_to(root)


def resolve_inside(root: Path, relative: str | Path) -> Path | None:
    """``root / relative`` when ``relative``, a path read from a list or JSON file, stays inside
    ``root``; None when it is absolute or its ``..`` leave ``root``. The check is on the text:
    links the user made inside ``root`` (data on another disk) are the user's and are followed."""
    text = os.path.normpath(str(relative))
    if os.path.isabs(text) or text == os.curdir or text == os.pardir or text.startswith(os.pardir + os.sep):
        return None
    return Path(root) / text


def remove_tree(target: Path, owner: Path) -> None:
    """Delete ``target``, a folder the framework made inside ``owner``; anything else is refused."""
    target = Path(target)
    if target.is_symlink() or not is_inside(owner, target):
        raise UnsafePathError(f"refusing to delete {target}: it is not a folder inside {owner} (a symlink or a path outside it)")
    shutil.rmtree(target)


def refuse_symlinks(folder: Path) -> None:
    """Refuse ``folder`` when anything inside it is a symlink: the framework never makes one, and a
    planted one would send its writes or deletes elsewhere."""
    folder = Path(folder)
    if not folder.is_dir():
        return
    for parent, dirs, files in os.walk(folder):
        for name in (*dirs, *files):
            path = Path(parent) / name
            if path.is_symlink():
                raise UnsafePathError(
                    f"{path} is a symlink (to {os.readlink(path)}); the framework writes its own files in {folder} "
                    "and never follows a link there. Remove the link, or choose another folder"
                )


def _create(path: Path, flags: int) -> int:
    try:
        return os.open(path, flags | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise UnsafePathError(f"{path} is a symlink; the framework never writes through a link. Remove it") from None
        raise


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Write ``path`` whole or not at all: a new file of this writer's own beside it (created with
    ``O_EXCL``, so never through a link), renamed over it (a rename replaces a link, never its
    target). Readers and writers finishing at once never see half a file or share a temporary one."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    fd = _create(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_text_atomic(path: Path, text: str) -> None:
    write_bytes_atomic(path, text.encode("utf-8"))


def append_line(path: Path, line: str) -> None:
    """Append one line to ``path`` (created when missing), never through a link."""
    fd = _create(Path(path), os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    with os.fdopen(fd, "a", encoding="utf-8") as handle:
        handle.write(line.rstrip("\n") + "\n")
