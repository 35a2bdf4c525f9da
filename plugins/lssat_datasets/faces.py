"""Face detectors: each finds the faces in one RGB frame and returns their boxes ``(top, left,
height, width)`` in the frame's pixels. They are components of the kind ``face_detector``
(the ``register_face_detectors`` hook), so a plugin can add RetinaFace or YuNet. Three ship:

* ``lbp-cascade`` (default): scikit-image's LBP frontal-face cascade; needs nothing more.
* ``dlib-hog``: dlib's HOG frontal-face detector (DeepfakeBench's), with the ``faces`` extra.
* ``dlib-cnn``: dlib's CNN detector (``mmod``, from the ``face-recognition-models`` wheel), slower
  and finding turned faces too, with the ``faces`` extra.

Each searches a copy of the frame scaled to ``detect_height`` rows and maps the boxes back, so that
the time per frame does not grow with the video's resolution and a face of 8 % of the frame's
height is still larger than the detector's smallest window.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from lssat_framework.errors import AmbiguousComponentError, DataError, UnknownComponentError

#: (top, left, height, width) in the frame's pixels
Box = tuple[float, float, float, float]

FACES_EXTRA = "pip install 'lssat-framework[faces]'"


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


def import_dlib(what: str):
    try:
        import dlib
    except ImportError:
        raise DataError(f"{what} needs dlib: {FACES_EXTRA}") from None
    return dlib


def dlib_model(file: str, what: str) -> Path:
    """A model file of the ``face-recognition-models`` package, found without importing it (its
    ``__init__`` needs ``pkg_resources``, which recent setuptools no longer has)."""
    from importlib.util import find_spec

    spec = find_spec("face_recognition_models")
    path = Path(next(iter(spec.submodule_search_locations)), "models", file) if spec and spec.submodule_search_locations else None
    if path is None or not path.is_file():
        raise DataError(f"{what} needs dlib's model {file} from the package face-recognition-models: {FACES_EXTRA}")
    return path


def largest(faces: list[Box]) -> Box | None:
    """The largest of a frame's faces (DeepfakeBench keeps that one too)."""
    return max(faces, key=lambda box: box[2] * box[3]) if faces else None


class DlibHog:
    """dlib's HOG frontal-face detector (the ``faces`` extra), DeepfakeBench's."""

    def __init__(self, detect_height: int = 540, upsample: int = 1):
        self.detector = import_dlib("the face detector dlib-hog").get_frontal_face_detector()
        self.detect_height, self.upsample = detect_height, upsample

    def __call__(self, frame: np.ndarray) -> list[Box]:
        gray, scale = _scaled_gray(frame, self.detect_height)
        found = self.detector(gray, self.upsample)
        return [(r.top() * scale, r.left() * scale, r.height() * scale, r.width() * scale) for r in found]


class DlibCnn:
    """dlib's CNN face detector (``mmod_human_face_detector.dat``; the ``faces`` extra): finds
    turned and partly hidden faces the HOG detector misses; on a CPU tens of times slower."""

    def __init__(self, detect_height: int = 360, upsample: int = 1):
        dlib = import_dlib("the face detector dlib-cnn")
        self.detector = dlib.cnn_face_detection_model_v1(str(dlib_model("mmod_human_face_detector.dat", "the face detector dlib-cnn")))
        self.detect_height, self.upsample = detect_height, upsample

    def __call__(self, frame: np.ndarray) -> list[Box]:
        from PIL import Image

        rgb = Image.fromarray(frame).convert("RGB")
        scale = 1.0
        if rgb.height > self.detect_height:
            scale = rgb.height / self.detect_height
            rgb = rgb.resize((max(1, round(rgb.width / scale)), self.detect_height), Image.BILINEAR, reducing_gap=2.0)
        found = self.detector(np.asarray(rgb), self.upsample)
        return [(d.rect.top() * scale, d.rect.left() * scale, d.rect.height() * scale, d.rect.width() * scale) for d in found]


# ------------------------------------------------------------------ the registry
def face_detectors(manager=None) -> dict[str, Any]:
    """The registered face detectors by name, and by qualified name (``plugin/name``)."""
    return _by_name("face_detector", manager)


def _by_name(kind: str, manager=None) -> dict[str, Any]:
    from lssat_framework.plugins import get_plugin_manager

    components = (manager or get_plugin_manager()).components(kind)
    owners = Counter(c.name for c in components)  # a name two plugins register is reached by its qualified names only
    return {**{c.qualified_name: c for c in components}, **{c.name: c for c in components if owners[c.name] == 1}}


def face_component(kind: str, name: str, option: str, manager=None):
    """The registered component ``name`` of ``kind`` (``face_detector`` or ``face_landmarker``);
    an unknown name is one error listing the installed ones, a name two plugins register one
    naming their qualified names."""
    from lssat_framework.plugins import get_plugin_manager

    manager = manager or get_plugin_manager()
    what = kind.replace("_", " ")
    try:
        return manager.get(kind, name)
    except AmbiguousComponentError as exc:
        raise AmbiguousComponentError(f"{option}: {exc}") from None
    except UnknownComponentError:
        known = ", ".join(manager.list(kind)) or "none"
        raise UnknownComponentError(f"{option}: unknown {what} '{name}'; installed: {known}") from None


def detector_component(name: str, manager=None):
    return face_component("face_detector", name, "--detector", manager)
