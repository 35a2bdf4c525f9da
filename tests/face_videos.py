"""Videos made with PyAV for the preparation tests: uniform gray frames, and frames with a real
photographed face (scikit-image's astronaut) pasted where a test wants it."""

import json
from fractions import Fraction

import numpy as np
import pytest

av = pytest.importorskip("av")


def write_video(path, levels, times_ms=None, size=(96, 72), rotation=None, marker=False):
    """An MPEG-4 video of uniform gray frames (``levels``), shown at ``times_ms`` (10 fps when
    None); ``marker`` paints the stored frame's top-left corner white."""
    path.parent.mkdir(parents=True, exist_ok=True)
    times_ms = times_ms or [100 * i for i in range(len(levels))]
    with av.open(str(path), "w") as container:
        stream = container.add_stream("mpeg4", rate=10)
        stream.width, stream.height, stream.pix_fmt = size[0], size[1], "yuv420p"
        stream.codec_context.time_base = stream.time_base = Fraction(1, 1000)
        if rotation is not None:
            stream.set_display_rotation(rotation)
        for level, time_ms in zip(levels, times_ms):
            array = np.full((size[1], size[0], 3), level, np.uint8)
            if marker:
                array[: size[1] // 3, : size[0] // 3] = 255
            frame = av.VideoFrame.from_ndarray(array, format="rgb24")
            frame.pts, frame.time_base = time_ms, Fraction(1, 1000)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def real_video(root, name="000"):
    return root / "original_sequences" / "youtube" / "c23" / "videos" / f"{name}.mp4"


TWELVE_LEVELS = [20 * (i % 10) for i in range(12)]


PORTRAIT_FACE = (30, 25, 100, 110)  # (top, left, height, width) of the face in PORTRAIT


def portrait():
    """The astronaut's head and shoulders from scikit-image's photos (face about 100 px tall)."""
    from skimage import data

    return data.astronaut()[50:215, 145:310]


def face_frame(width, height, fraction, centre_x, centre_y):
    """A frame with the portrait pasted so that its face is ``fraction`` of the frame's height,
    centred at (centre_x, centre_y) × the frame's size; and the face's box (top, left, height, width)."""
    from skimage.transform import rescale

    scale = fraction * height / PORTRAIT_FACE[2]
    photo = (rescale(portrait(), scale, channel_axis=2, anti_aliasing=True) * 255).astype(np.uint8)
    rows, columns = np.mgrid[0:height, 0:width]
    frame = np.stack([60 + 100 * columns / width, 80 + 80 * rows / height, np.full(rows.shape, 120.0)], -1).astype(np.uint8)
    face_top, face_left, face_height, face_width = (v * scale for v in PORTRAIT_FACE)
    top = round(centre_y * height - face_top - face_height / 2)
    left = round(centre_x * width - face_left - face_width / 2)
    visible = frame[max(top, 0) : top + photo.shape[0], max(left, 0) : left + photo.shape[1]]
    visible[...] = photo[max(-top, 0) : max(-top, 0) + visible.shape[0], max(-left, 0) : max(-left, 0) + visible.shape[1]]
    return frame, (top + face_top, left + face_left, face_height, face_width)


def write_frames(path, frames, faststart=False):
    """An MPEG-4 video of the given RGB frames at 10 fps, at a bit rate that keeps small faces."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w", options={"movflags": "faststart"} if faststart else {}) as container:
        stream = container.add_stream("mpeg4", rate=10)
        stream.width, stream.height, stream.pix_fmt = frames[0].shape[1], frames[0].shape[0], "yuv420p"
        stream.bit_rate = 4_000_000
        for array in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(array, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def face_video(path, count=3, size=(320, 180), fraction=0.4, faststart=False):
    """A video whose face moves left to right."""
    frames = [face_frame(*size, fraction, 0.3 + 0.4 * i / max(count - 1, 1), 0.5)[0] for i in range(count)]
    return write_frames(path, frames, faststart)


def read_report(root):
    return json.loads((root / "prepare_report.json").read_text())
