"""Finding the face in video frames: detectors as components, and the square crop of each frame.

A detector finds faces in one RGB frame and returns their boxes ``(top, left, height, width)`` in
the frame's pixels. Detectors are registered like other components, through the
``register_face_detectors`` hook, so a plugin can add RetinaFace or YuNet. Two ship:

* ``lbp-cascade`` (default): scikit-image's LBP frontal-face cascade; needs nothing more.
* ``dlib-hog``: dlib's HOG frontal-face detector (what DeepfakeBench uses), with
  ``pip install 'lssat-framework[dlib]'``.

Both search a copy of the frame scaled to ``detect_height`` rows and map the boxes back, so that
the time per frame does not grow with the video's resolution and a face of 8 % of the frame's
height is still larger than the detector's smallest window.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from lssat_framework.errors import DataError, UnknownComponentError


#: (top, left, height, width) in the frame's pixels
Box = tuple[float, float, float, float]
#: (top, left, side) of a square crop
Square = tuple[int, int, int]


def _scaled_gray(frame: np.ndarray, height: int) -> tuple[np.ndarray, float]:
    """The frame in gray levels (uint8) with at most ``height`` rows, and the factor that maps its
    coordinates back to the frame's. PIL scales a 1080p frame in milliseconds."""
    from PIL import Image

    image = Image.fromarray(frame).convert("L")
    if image.height <= height:
        return np.asarray(image), 1.0
    width = max(1, round(image.width * height / image.height))
    return np.asarray(image.resize((width, height), Image.BILINEAR, reducing_gap=2.0)), image.height / height


class LbpCascade:
    """scikit-image's LBP frontal-face cascade, searched at every scale from its 24 px window to the
    frame's height; a frame where nothing is found is searched again with a finer step."""

    def __init__(self, detect_height: int = 360, scale_factor: float = 1.2, step_ratio: float = 1.25, fine_step_ratio: float | None = 1.0):
        from skimage import data
        from skimage.feature import Cascade

        self.cascade = Cascade(data.lbp_frontal_face_cascade_filename())
        self.detect_height, self.scale_factor = detect_height, scale_factor
        self.steps = [step_ratio] + ([fine_step_ratio] if fine_step_ratio and fine_step_ratio < step_ratio else [])

    def __call__(self, frame: np.ndarray) -> list[Box]:
        gray, scale = _scaled_gray(frame, self.detect_height)
        gray = gray / 255.0
        side = min(gray.shape)
        for step in self.steps:
            found = self.cascade.detect_multi_scale(gray, scale_factor=self.scale_factor, step_ratio=step, min_size=(24, 24), max_size=(side, side))
            if found:
                break
        return [(d["r"] * scale, d["c"] * scale, d["height"] * scale, d["width"] * scale) for d in found]


class DlibHog:
    """dlib's HOG frontal-face detector (``pip install 'lssat-framework[dlib]'``)."""

    def __init__(self, detect_height: int = 540, upsample: int = 1):
        try:
            import dlib
        except ImportError:
            raise DataError("the face detector dlib-hog needs dlib: pip install 'lssat-framework[dlib]'") from None
        self.detector = dlib.get_frontal_face_detector()
        self.detect_height, self.upsample = detect_height, upsample

    def __call__(self, frame: np.ndarray) -> list[Box]:
        gray, scale = _scaled_gray(frame, self.detect_height)
        found = self.detector(gray, self.upsample)
        return [(r.top() * scale, r.left() * scale, r.height() * scale, r.width() * scale) for r in found]


# ------------------------------------------------------------------ registry
def face_detectors(manager=None) -> dict[str, Any]:
    """The face detectors every active plugin registers (``register_face_detectors``), by name; a
    name two plugins register is reached as ``plugin/name``. A factory given as
    ``"package.module:attr"`` is imported when :meth:`Component.resolve` is called."""
    from lssat_framework.plugins.components import Component
    from lssat_framework.plugins.registration import check_registration
    from lssat_framework.plugins.lazy import LazyFactory
    from lssat_framework.plugins import get_plugin_manager

    manager = manager or get_plugin_manager()
    found: dict[str, Any] = {}
    for info in manager.active_plugins():

        def register(name, factory, params_model=None, description="", _info=info):
            if isinstance(factory, str):  # as the components' register() takes it
                factory = LazyFactory(factory)
            check_registration("face detector", name, factory, params_model)
            component = Component("face_detector", name, factory, params_model, description, _info.name, _info.distribution, _info.qualifier)
            found.setdefault(name, component)
            found[component.qualified_name] = component

        manager.call_hook(info, "register_face_detectors", register)
    return found


def detector_component(name: str, manager=None):
    """The registered detector ``name``; an unknown name is one error listing the known ones."""
    detectors = face_detectors(manager)
    if name not in detectors:
        known = ", ".join(sorted(n for n in detectors if "/" not in n)) or "none"
        raise UnknownComponentError(f"--detector: unknown face detector '{name}'; installed: {known}")
    return detectors[name]


# ------------------------------------------------------------------ crops
def square_around(box: Box, frame_shape: tuple[int, ...], enlarge: float) -> Square:
    """The square of ``enlarge`` × the box's longer side around its centre, moved inside the frame."""
    height, width = frame_shape[:2]
    top, left, box_height, box_width = box
    side = int(min(max(box_height, box_width) * enlarge, height, width))
    side = max(side, 1)
    cy, cx = top + box_height / 2, left + box_width / 2
    return int(np.clip(round(cy - side / 2), 0, height - side)), int(np.clip(round(cx - side / 2), 0, width - side)), side


def centre_square(frame_shape: tuple[int, ...]) -> Square:
    height, width = frame_shape[:2]
    side = min(height, width)
    return (height - side) // 2, (width - side) // 2, side


def smooth_boxes(boxes: list[Box | None]) -> list[Box] | None:
    """One box per frame from the frames' detections (None: no face found): a frame without a
    detection takes the box interpolated between its nearest neighbours with one (the nearest one
    at either end), then a running median of three removes single-frame jumps such as a false
    detection. None when no frame has a face."""
    found = [i for i, box in enumerate(boxes) if box is not None]
    if not found:
        return None
    # centre and size move smoothly; corners would not when the size changes
    known = np.array([_centre_form(boxes[i]) for i in found])
    everywhere = np.stack([np.interp(np.arange(len(boxes)), found, known[:, k]) for k in range(4)], axis=1)
    if len(boxes) >= 3:
        middle = np.median(np.stack([everywhere[:-2], everywhere[1:-1], everywhere[2:]]), axis=0)
        everywhere[1:-1] = middle
    return [_corner_form(row) for row in everywhere]


def _centre_form(box: Box) -> tuple[float, float, float, float]:
    top, left, height, width = box
    return top + height / 2, left + width / 2, height, width


def _corner_form(row) -> Box:
    cy, cx, height, width = (float(v) for v in row)
    return cy - height / 2, cx - width / 2, height, width


class FaceCropper:
    """The square crop of the face in each frame: the largest detection, enlarged (1.3× its side,
    as DeepfakeBench crops); the centred square when no frame of the video has a face."""

    def __init__(self, detector: Callable[[np.ndarray], list[Box]] | None = None, enlarge: float = 1.3):
        self.detector = detector if detector is not None else LbpCascade()
        self.enlarge = enlarge

    def largest(self, frame: np.ndarray) -> Box | None:
        faces = self.detector(frame)
        return max(faces, key=lambda box: box[2] * box[3]) if faces else None

    def box(self, frame: np.ndarray) -> Square:
        """(top, left, side) of the crop of one frame on its own."""
        face = self.largest(frame)
        return square_around(face, frame.shape, self.enlarge) if face is not None else centre_square(frame.shape)

    def boxes(self, frames: list[np.ndarray]) -> tuple[list[Square], list[bool]]:
        """The crops of a video's sampled frames, smoothed over them, and whether each frame's
        own detection found a face."""
        faces = [self.largest(frame) for frame in frames]
        smoothed = smooth_boxes(faces)
        if smoothed is None:
            return [centre_square(frame.shape) for frame in frames], [False] * len(frames)
        return [square_around(box, frame.shape, self.enlarge) for box, frame in zip(smoothed, frames)], [f is not None for f in faces]
