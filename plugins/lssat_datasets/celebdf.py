"""Celeb-DF v2 from extracted frames and its official test list.

Videos: ``Celeb-real/`` (590), ``YouTube-real/`` (300), ``Celeb-synthesis/`` (5,639 fakes);
``List_of_testing_videos.txt`` lists the 518 test videos, one a line: ``<1 real | 0 fake>
<folder>/<file>.mp4``. Frames: ``<folder>/frames/<file>/*.png`` (``lssat prepare celebdf ROOT``
writes them; DeepfakeBench's frames are in the same place). ``test``: the listed videos;
``train``: every other video with frames. Celeb-DF has no validation list: ``val`` is the test
list, as DeepfakeBench does, so select models on it only knowingly.
"""

from __future__ import annotations

from pathlib import Path

from lssat_framework.errors import DataError

from .files import require_dir
from .params import CelebDFParams
from .rows import BadRow, Rows, inside
from .videoframes import ListedVideo, VideoFrameSource, frame_folders, prepared_defaults

FOLDERS = ("Celeb-real", "YouTube-real", "Celeb-synthesis")
TEST_LIST = "List_of_testing_videos.txt"


def testing_videos(root: Path, rows: Rows | None = None) -> list[tuple[str, int]]:
    """(``<folder>/<file>.mp4``, fake) of each line of the official test list; a line naming a
    path outside ``root`` or its three folders is a bad row (``rows``; default: an error)."""
    path = root / TEST_LIST
    if not path.is_file():
        raise DataError(f"Celeb-DF v2: expected the test list {path} (lines '<1 real|0 fake> <folder>/<file>.mp4')")
    rows = Rows("Celeb-DF v2", hint="") if rows is None else rows

    def video(line: str) -> tuple[str, int]:
        parts = line.split()
        if len(parts) != 2 or parts[0] not in ("0", "1") or parts[1].split("/")[0] not in FOLDERS:
            raise BadRow(f"expected '<1 real|0 fake> <folder>/<file>.mp4' with a folder of {list(FOLDERS)}, got {line!r}")
        relative = inside(root, parts[1], "video path").relative_to(root)
        if len(relative.parts) < 2 or relative.parts[0] not in FOLDERS:
            raise BadRow(f"the video path {parts[1]!r} leads out of the folders {list(FOLDERS)}")
        return relative.as_posix(), 1 - int(parts[0])  # the list says 1 for real

    return rows.lines(path, video)


class CelebDF(VideoFrameSource):
    """Celeb-DF v2 real/fake frames; each frame knows its video."""

    title = "Celeb-DF v2"

    def __init__(self, **params):
        p = CelebDFParams(**params)
        root = require_dir(Path(p.root), "Celeb-DF v2")
        self.params = p = prepared_defaults(p, root)
        self.prepare_command = f"lssat prepare celebdf {root}"
        rows = Rows(self.title, p.on_bad_row)
        listed = testing_videos(root, rows)
        if not any((root / folder).is_dir() for folder in FOLDERS):
            require_dir(root / FOLDERS[0], "Celeb-DF v2")
        test = [ListedVideo(root / relative, fake) for relative, fake in listed]
        tested = {entry.video for entry in test}
        train = [ListedVideo(video, int(folder == "Celeb-synthesis")) for folder in FOLDERS for video in frame_folders(root / folder) if video not in tested]
        reasons = {
            "train": f"no video outside the test list has frames under {root}/<folder>/frames; run `{self.prepare_command}` without --test-only",
            "test": f"{root / TEST_LIST} lists no video",
        }
        reasons["val"] = reasons["test"]
        self.read_videos({"train": train, "val": test, "test": test}, [], reasons, rows)
