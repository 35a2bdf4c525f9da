"""The face in each frame, found, cropped and aligned as the preparation settings say: one
function per step, the settings as data (:class:`FaceSettings`, recorded in every prepared
dataset's ``prepare_report.json`` and each video's marker), the detector and landmarker built
through the registry. ``lssat prepare`` runs these steps; another command that must find faces
exactly as a dataset was prepared builds a :class:`FaceFinder` from that dataset's record.

1. :meth:`FaceFinder.faces`: the largest face of each frame (the detector).
2. :meth:`FaceFinder.plan`: one crop per frame, steady over each face track (:mod:`.tracks`):
   a square of ``scale`` × the track's face size, or, with ``align``, the similarity that carries
   the landmarker's five points onto DeepfakeBench's template (:mod:`.align`).
3. :meth:`FaceFinder.crop`: the ``size``² image of one frame's crop.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

import numpy as np

from lssat_framework.errors import DataError

from .align import matrix_scale, similarity, warp
from .faces import Box, largest
from .params import DEFAULT_DETECTOR, DEFAULT_LANDMARKER
from .tracks import spread, steady_boxes


@dataclass(frozen=True)
class FaceSettings:
    """How faces are found and cropped."""

    detector: str = DEFAULT_DETECTOR
    detector_params: dict[str, Any] = field(default_factory=dict)
    #: warp the five key points onto the ArcFace template (DeepfakeBench) instead of a square crop
    align: bool = False
    landmarker: str | None = None
    landmarker_params: dict[str, Any] = field(default_factory=dict)
    #: the crop's side over the face's: of the face box (square crops), or DeepfakeBench's
    #: template scale (aligned crops)
    scale: float = 1.3
    #: the side of the crops written, in pixels
    size: int = 256

    def record(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_record(cls, record: Any, where: str = "the preparation record") -> "FaceSettings":
        """The settings a prepared dataset recorded; a record that is not one is a :class:`DataError`."""
        names = {f.name for f in fields(cls)}
        if not isinstance(record, dict):
            raise DataError(f"{where}: expected the face settings as an object, got {type(record).__name__}")
        try:
            settings = cls(**{k: v for k, v in record.items() if k in names})
            ok = isinstance(settings.size, int) and settings.size > 0 and float(settings.scale) > 0 and isinstance(settings.detector, str)
        except (TypeError, ValueError):
            ok = False
        if not ok:
            raise DataError(f"{where}: the face settings {record!r} are not those lssat prepare records")
        return settings


@dataclass
class Crop:
    """How one frame is cropped: a square ``(top, left, side)`` of the frame, or a similarity
    matrix from frame pixels to the crop's."""

    square: tuple[int, int, int] | None = None
    matrix: np.ndarray | None = None

    def side_in_frame(self, size: int) -> float:
        """The crop's side measured in the frame's pixels (its scale)."""
        return float(self.square[2]) if self.square is not None else size / matrix_scale(self.matrix)


@dataclass
class Plan:
    """The crops of a video's sampled frames."""

    crops: list[Crop]
    #: whether each frame's own detection found a face
    found: list[bool]
    #: each frame's face track (all 0 when no frame has a face)
    tracks: list[int]

    def crop_scale_spread(self, size: int) -> float:
        """The largest (max − min) / median of the crops' sides within one track."""
        return round(spread([c.side_in_frame(size) for c in self.crops], self.tracks), 4)


def centre_square(shape: tuple[int, ...]) -> tuple[int, int, int]:
    height, width = shape[:2]
    side = min(height, width)
    return (height - side) // 2, (width - side) // 2, side


def square_around(centre_y: float, centre_x: float, side: float, shape: tuple[int, ...]) -> tuple[int, int, int]:
    """The square of ``side`` around the centre, moved inside the frame (shrunk to fit)."""
    height, width = shape[:2]
    side = max(1, int(min(side, height, width)))
    top = int(np.clip(round(centre_y - side / 2), 0, height - side))
    return top, int(np.clip(round(centre_x - side / 2), 0, width - side)), side


class FaceFinder:
    """The steps, with one detector and landmarker (built once per process)."""

    def __init__(self, settings: FaceSettings, detector, landmarker=None):
        if settings.align and landmarker is None:
            raise DataError("aligned crops need a face landmarker (--landmarker)")
        self.settings, self.detector, self.landmarker = settings, detector, landmarker

    @classmethod
    def from_settings(cls, settings: FaceSettings, manager=None) -> "FaceFinder":
        """Detector and landmarker from the registry, their params validated by their models."""
        from .faces import face_component

        detector = face_component("face_detector", settings.detector, "--detector", manager)
        landmarker = None
        if settings.align:
            chosen = face_component("face_landmarker", settings.landmarker or DEFAULT_LANDMARKER, "--landmarker", manager)
            landmarker = chosen.build(**settings.landmarker_params)
        return cls(settings, detector.build(**settings.detector_params), landmarker)

    def faces(self, frames: list[np.ndarray]) -> list[Box | None]:
        """Step 1: the largest face of each frame, None where none is found."""
        return [largest(self.detector(frame)) for frame in frames]

    def plan(self, frames: list[np.ndarray], faces: list[Box | None]) -> Plan:
        """Step 2: each frame's crop, steady over its face track; the centred square of every
        frame when none has a face."""
        steady = steady_boxes(faces)
        found = [face is not None for face in faces]
        if steady is None:
            return Plan([Crop(square=centre_square(frame.shape)) for frame in frames], found, [0] * len(frames))
        boxes, tracks = steady
        crops = []
        for frame, face, (centre_y, centre_x, size) in zip(frames, faces, boxes):
            if not self.settings.align:
                crops.append(Crop(square=square_around(centre_y, centre_x, size * self.settings.scale, frame.shape)))
                continue
            box = face if face is not None else (centre_y - size / 2, centre_x - size / 2, size, size)
            crops.append(Crop(matrix=similarity(self.landmarker(frame, box), self.settings.size, self.settings.scale)))
        return Plan(crops, found, tracks)

    def crop(self, frame: np.ndarray, crop: Crop) -> np.ndarray:
        """Step 3: the ``size``² face image of one frame."""
        from PIL import Image

        size = self.settings.size
        if crop.matrix is not None:
            return warp(frame, crop.matrix, size)
        top, left, side = crop.square
        return np.asarray(Image.fromarray(frame[top : top + side, left : left + side]).resize((size, size), Image.BILINEAR))

    def crops(self, frames: list[np.ndarray]) -> tuple[list[np.ndarray], Plan]:
        """All steps: the face images of a video's sampled frames and their plan."""
        plan = self.plan(frames, self.faces(frames))
        return [self.crop(frame, crop) for frame, crop in zip(frames, plan.crops)], plan
