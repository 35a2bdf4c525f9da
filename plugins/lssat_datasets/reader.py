"""The face reader of ``lssat predict`` (the kind ``face_reader``): the faces of one video or
photo found, cropped and aligned by the very steps ``lssat prepare`` runs (:mod:`.video`'s
sampling, :mod:`.facepath`'s :class:`FaceFinder`), with the settings a prepared dataset recorded.

A photo is a video of one frame: its crop is the one prepare would write for such a video. With
``all_faces``, every face of a frame is kept: faces are linked from one sampled frame to the next
(the nearest one that is no cut, :func:`.tracks.is_cut`), and each such track is planned by
prepare's own step as its only face.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import numpy as np

from lssat_framework.errors import DataError
from lssat_framework.images import IMAGE_SUFFIXES
from lssat_framework.images.reading import load_full_image
from lssat_framework.interfaces import FaceCrop, FaceFile, FaceReader

from .facepath import FaceFinder, FaceSettings
from .params import PREPARE_DEFAULTS, PROFILES
from .tracks import is_cut

#: the settings a prediction takes from the preparation record, beside the face settings
SAMPLING_KEYS = ("profile", "frames", "sampling")
VIDEO_SUFFIXES = {".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv", ".flv"}


def preparation_record(root: Path) -> dict[str, Any] | None:
    """The settings ``root``'s frames were prepared with (``prepare_report.json``), None when
    the folder holds no readable report."""
    from .rows import read_json

    try:
        report = read_json(Path(root) / "prepare_report.json")
    except (OSError, DataError):
        return None
    settings = report.get("settings") if isinstance(report, dict) else None
    return dict(settings) if isinstance(settings, dict) else None


def link_faces(detections: list[list[tuple]]) -> list[list[tuple | None]]:
    """Per track, its face in each frame (None where it has none): each face joins the track
    whose last face is nearest and not a cut from it, or starts a new one; tracks ordered by
    their faces' summed area, largest first. A track seen in only one of several sampled frames is
    left out (the largest track stays when no other is left)."""
    tracks: list[list[tuple | None]] = []
    for index, faces in enumerate(detections):
        open_tracks = {t: next(box for box in reversed(track) if box is not None) for t, track in enumerate(tracks)}
        for face in sorted(faces, key=lambda box: -box[2] * box[3]):
            near = [t for t, last in open_tracks.items() if not is_cut(last, face)]
            if near:
                chosen = min(near, key=lambda t: np.hypot(open_tracks[t][0] - face[0], open_tracks[t][1] - face[1]))
                del open_tracks[chosen]
            else:
                chosen = len(tracks)
                tracks.append([None] * index)
            tracks[chosen].append(face)
        for track in tracks:
            if len(track) <= index:
                track.append(None)
    ranked = sorted(tracks, key=lambda track: -sum(box[2] * box[3] for box in track if box is not None))
    # a face in one sampled frame alone of several is taken for a false alarm of the detector
    seen_twice = [track for track in ranked if sum(box is not None for box in track) >= min(2, len(detections))]
    return seen_twice or ranked[:1]


class PreparedFaces(FaceReader):
    """The builtin face reader: ``lssat prepare``'s sampling and face path."""

    suffixes = frozenset(IMAGE_SUFFIXES | VIDEO_SUFFIXES)

    def settings(self, recorded: dict[str, Any] | None, overrides: dict[str, Any]) -> dict[str, Any]:
        """Prepare's defaults, the record over them, then the profile asked and the flags given."""
        values = {**PREPARE_DEFAULTS, **(recorded or {})}
        profile = overrides.get("profile")
        if profile is not None:
            if profile not in PROFILES:
                raise DataError(f"--profile: unknown profile {profile!r}; known: {', '.join(PROFILES)}")
            values.update(PROFILES[profile], profile=profile)
        values.update({key: value for key, value in overrides.items() if value is not None and key != "profile"})
        if not values.get("align"):
            values.update(landmarker=None, landmarker_params={})
        # settings that are not prepare's, or a detector or landmarker that cannot be built, fail here, before any file
        self._finder(FaceSettings.from_record(values, "the preparation settings"))
        return values

    def kind_of(self, path: Path) -> str:
        return "video" if path.suffix.lower() in VIDEO_SUFFIXES else "image"

    def read(self, path: Path, settings: dict[str, Any], all_faces: bool = False) -> FaceFile:
        face = FaceSettings.from_record(settings, "the preparation settings")
        finder = self._finder(face)
        if self.kind_of(path) == "image":
            frames, indices, times, total, warning = [load_full_image(path)], [0], [None], 1, None
        else:
            from .video import sample_frames

            sampled = sample_frames(path, int(settings.get("frames", PREPARE_DEFAULTS["frames"])), settings.get("sampling", "spans"))
            frames, indices, total, warning = sampled.frames, sampled.indices, sampled.video_frames, sampled.error
            times = [None] * len(frames) if sampled.times is None else sampled.times
        kind = self.kind_of(path)
        return FaceFile(kind, self._crops(finder, frames, indices, times, all_faces), total, warning)

    def _finder(self, face: FaceSettings) -> FaceFinder:
        """One finder per settings, kept: building a detector (dlib's CNN) costs more than a frame."""
        cached = getattr(self, "_cached", None)
        if cached is None or cached[0] != face:
            self._cached = (face, FaceFinder.from_settings(face))
        return self._cached[1]

    @staticmethod
    def _crops(finder: FaceFinder, frames, indices, times, all_faces: bool) -> Iterator[FaceCrop]:
        """The crops one frame at a time (only the sampled frames are held)."""
        if all_faces:
            per_track = link_faces([finder.detector(frame) for frame in frames])
        else:
            per_track = [finder.faces(frames)]
        for track, faces in enumerate(per_track):
            plan = finder.plan(frames, faces)
            for frame, crop, face, index, time in zip(frames, plan.crops, faces, indices, times):
                yield FaceCrop(finder.crop(frame, crop), index, time, face, track)
