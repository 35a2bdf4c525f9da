"""Facial landmarkers: the five key points of a face, as the alignment onto the ArcFace template
needs them. They are components of the kind ``face_landmarker`` (the ``register_face_landmarkers``
hook), so a plugin can add RetinaFace's or MediaPipe's points. A landmarker takes an RGB frame and
one face box ``(top, left, height, width)`` and returns a ``5×2`` array of ``(x, y)`` in the
frame's pixels: the eye on the image's left, the other eye, the nose tip, the mouth corner on the
image's left, the other one.

``dlib-68`` (the ``faces`` extra) fits dlib's 68-point shape predictor, trained on iBUG 300-W
(``shape_predictor_68_face_landmarks.dat`` from the ``face-recognition-models`` wheel), and keeps
the points DeepfakeBench keeps (``preprocessing/preprocess.py``, ``get_keypts``): 37 and 44 (an
upper eyelid point of each eye), 30 (the nose tip), 49 and 55 (beside the mouth corners). Its
81-point predictor's first 68 points are these 68, so the five points are DeepfakeBench's.
"""

from __future__ import annotations

import numpy as np

from .faces import Box, dlib_model, import_dlib

#: the indices of the 68 iBUG points DeepfakeBench aligns with
DEEPFAKEBENCH_POINTS = (37, 44, 30, 49, 55)


class Dlib68:
    """dlib's 68-point shape predictor; the five points DeepfakeBench aligns with."""

    def __init__(self):
        dlib = import_dlib("the face landmarker dlib-68")
        self.dlib = dlib
        self.predictor = dlib.shape_predictor(str(dlib_model("shape_predictor_68_face_landmarks.dat", "the face landmarker dlib-68")))

    def all_points(self, frame: np.ndarray, box: Box) -> np.ndarray:
        """The 68 points (``68×2``, x then y) of the face in ``box``."""
        top, left, height, width = (int(round(v)) for v in box)
        shape = self.predictor(np.ascontiguousarray(frame), self.dlib.rectangle(left, top, left + width, top + height))
        return np.array([[shape.part(i).x, shape.part(i).y] for i in range(shape.num_parts)], dtype=np.float64)

    def __call__(self, frame: np.ndarray, box: Box) -> np.ndarray:
        return self.all_points(frame, box)[list(DEEPFAKEBENCH_POINTS)]


def landmarker_component(name: str, manager=None):
    from .faces import face_component

    return face_component("face_landmarker", name, "--landmarker", manager)
