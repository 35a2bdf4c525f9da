"""One writer per run directory.

The writer holds ``<run>/writer.lock``: an ``flock`` on the open file (the kernel drops it when the
process dies, however it dies). Beside it, ``writer.json`` names the holder (host, pid, start time)
with a heartbeat that a background thread refreshes every :data:`HEARTBEAT_S` seconds; each
refresh writes a new file and renames it over the old one, so a reader never sees it empty or
half-written. Neither file is opened through a symlink. A second
writer is refused with a message naming the holder. A lock left by a dead writer is taken over
with a warning: on the same host when its pid is gone; from another host (where the ``flock`` of a
shared filesystem may not be visible) when its heartbeat is older than ``LSSAT_LOCK_STALE_S``
seconds (default :data:`STALE_AFTER_S`). Readers (``lssat eval``, ``predict``, sweep status) never
take the lock: everything a run commits is written atomically.
"""

from __future__ import annotations

import errno
import fcntl
import json
import math
import os
import socket
import sys
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..errors import LssatError
from .safe import UnsafePathError, write_text_atomic

LOCK_FILE = "writer.lock"
#: the holder's record, replaced whole at every heartbeat
HOLDER_FILE = "writer.json"
HEARTBEAT_S = 30.0
STALE_AFTER_S = 600.0
#: how long a refused writer waits for the holder's record: the holder writes it just after it
#: takes the flock, and deletes it just before it drops the flock
HOLDER_WAIT_S = 2.0


class RunLockedError(LssatError):
    """Another live process writes this run directory."""

    def __init__(self, directory: Path, holder: dict[str, Any]):
        self.directory, self.holder = directory, holder
        since = _when(holder.get("started"))
        beat = _when(holder.get("heartbeat"))
        super().__init__(
            f"{directory} is being written by another process (host {holder.get('host')}, pid {holder.get('pid')}, "
            f"since {since}, last heartbeat {beat}); wait for it to end, stop it, or choose another --out. "
            f"A lock whose writer died is taken over by itself (same host: at once; another host: after "
            f"{stale_after_s():.0f} s without a heartbeat, LSSAT_LOCK_STALE_S)"
        )


def stale_after_s() -> float:
    return float(os.environ.get("LSSAT_LOCK_STALE_S", STALE_AFTER_S))


def _number(value: Any) -> float | None:
    """A finite number from a holder's record (which may come from anywhere), else None."""
    if isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _when(stamp: Any) -> str:
    number = _number(stamp)
    try:
        return "?" if number is None else datetime.fromtimestamp(number, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    except (OverflowError, OSError, ValueError):  # no date a clock shows
        return "?"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def read_holder(directory: Path) -> dict[str, Any] | None:
    """The holder recorded beside ``directory``'s lock (None: no lock, or released)."""
    try:
        text = (Path(directory) / HOLDER_FILE).read_text(encoding="utf-8")
    except OSError:
        return None
    try:
        holder = json.loads(text)
    except ValueError:
        return None
    return holder if isinstance(holder, dict) else None


def holder_is_alive(holder: dict[str, Any]) -> bool:
    """Whether the recorded writer still lives, as far as this host can tell. A record whose pid
    is no process id, or whose heartbeat is no time within the stale time of now (no two clocks
    are that far apart), is a dead writer's: a run folder from elsewhere may hold anything."""
    if holder.get("host") == socket.gethostname():
        pid = holder.get("pid")  # 0 and -1 would ask about a process group, or every process
        return isinstance(pid, int) and not isinstance(pid, bool) and pid > 0 and _pid_alive(pid)
    beat = _number(holder.get("heartbeat"))
    return beat is not None and abs(time.time() - beat) < stale_after_s()


class RunLock:
    """``with RunLock(directory):`` makes this process the directory's only writer."""

    def __init__(self, directory: str | Path):
        self.directory = Path(directory)
        self.path = self.directory / LOCK_FILE
        self._fd: int | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.record: dict[str, Any] = {}

    def acquire(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        while True:
            try:
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
            except OSError as error:
                if error.errno == errno.ELOOP:
                    raise UnsafePathError(f"{self.path} is a symlink; the lock is never opened through a link. Remove it") from None
                raise
            self._flock_or_refuse(fd)
            try:
                same_file = os.stat(self.path).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                same_file = False
            if same_file:  # not a file that its holder deleted while we opened it
                break
            os.close(fd)
        previous = read_holder(self.directory)
        # on this host the flock is the truth (the kernel dropped a dead holder's); a holder on
        # another host may hold a flock this shared filesystem does not show: trust its heartbeat
        if previous and previous.get("host") != socket.gethostname() and holder_is_alive(previous):
            os.close(fd)
            raise RunLockedError(self.directory, previous)
        if previous and previous.get("pid") is not None:
            print(
                f"lssat: warning: taking over the lock of {self.directory} from a writer that is gone "
                f"(host {previous.get('host')}, pid {previous.get('pid')}, last heartbeat {_when(previous.get('heartbeat'))})",
                file=sys.stderr,
            )
        self._fd = fd
        now = time.time()
        self.record = {"host": socket.gethostname(), "pid": os.getpid(), "started": now, "heartbeat": now, "command": " ".join(sys.argv)}
        self._write()
        self._thread = threading.Thread(target=self._beat, name="lssat-lock-heartbeat", daemon=True)
        self._thread.start()

    def _flock_or_refuse(self, fd: int) -> None:
        """Take the flock on ``fd``, or refuse with the holder named. Between a holder's
        flock and its record (or its record's removal and its unlock) the record is missing or a
        dead writer's, so a refused writer retries for :data:`HOLDER_WAIT_S` until either the
        lock is free or a live holder is on record."""
        deadline = time.monotonic() + HOLDER_WAIT_S
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except OSError:
                holder = read_holder(self.directory)
                if (holder and holder_is_alive(holder)) or time.monotonic() > deadline:
                    os.close(fd)
                    raise RunLockedError(self.directory, holder or {}) from None
                time.sleep(0.05)

    def _write(self) -> None:
        write_text_atomic(self.directory / HOLDER_FILE, json.dumps(self.record))

    def _beat(self) -> None:
        while not self._stop.wait(HEARTBEAT_S):
            self.heartbeat()

    def heartbeat(self) -> None:
        if self._fd is not None:
            self.record["heartbeat"] = time.time()
            self._write()

    def release(self) -> None:
        if self._fd is None:
            return
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        for path in (self.directory / HOLDER_FILE, self.path):
            try:
                os.unlink(path)
            except FileNotFoundError:
                pass
        os.close(self._fd)  # drops the flock
        self._fd = None

    def __enter__(self) -> "RunLock":
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()
