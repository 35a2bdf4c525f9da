"""Reading frames from a video as it is shown: picked evenly over its duration (by timestamp,
so a variable-frame-rate video is not sampled from its first second only) and turned upright
by the stream's display rotation (a phone's portrait video is stored sideways)."""

from __future__ import annotations

import math
from bisect import bisect_left
from pathlib import Path

import numpy as np

from lssat_framework.errors import DataError

from .files import evenly


def pick_by_time(times: list[float], count: int) -> list[int]:
    """Indices of up to ``count`` frames nearest to the centres of ``count`` equal spans of the
    video's duration; ``times`` are the frames' presentation times in ascending order."""
    if len(times) <= count:
        return list(range(len(times)))
    span = times[-1] - times[0]
    if span <= 0:  # no usable timestamps: fall back to the frame order
        return evenly(list(range(len(times))), count)
    duration = span + span / (len(times) - 1)  # the last frame is shown for about one mean frame gap
    chosen: list[int] = []
    for i in range(count):
        target = times[0] + (i + 0.5) * duration / count
        k = bisect_left(times, target)
        if k == len(times) or (k > 0 and target - times[k - 1] <= times[k] - target):
            k -= 1
        if not chosen or chosen[-1] != k:  # a long still frame answers several targets once
            chosen.append(k)
    return chosen


def upright(frame: np.ndarray, rotation: float) -> np.ndarray:
    """``frame`` (H×W×C as stored) rotated counter-clockwise by ``rotation`` degrees, the display
    matrix's convention (``VideoFrame.rotation`` in PyAV); multiples of 90° only."""
    quarter_turns = round(rotation / 90) % 4
    return np.ascontiguousarray(np.rot90(frame, quarter_turns)) if quarter_turns else frame


def matrix_rotation(matrix) -> float:
    """The counter-clockwise rotation in degrees of a display matrix (nine 16.16 / 2.30 fixed-point
    integers, FFmpeg's ``av_display_rotation_get``)."""
    m = [float(v) for v in matrix]
    scale_x, scale_y = math.hypot(m[0], m[3]), math.hypot(m[1], m[4])
    if not scale_x or not scale_y:
        return 0.0
    return -math.degrees(math.atan2(m[1] / scale_y, m[0] / scale_x))


def _rotation(frame, stream) -> float:
    """The counter-clockwise display rotation of ``frame``: PyAV ≥ 14 reads it from the display
    matrix; older versions expose the matrix as side data, or FFmpeg's clockwise ``rotate`` tag."""
    rotation = getattr(frame, "rotation", None)
    if rotation is not None:
        return float(rotation)
    for side_data in getattr(frame, "side_data", ()):
        if "DISPLAYMATRIX" in str(getattr(side_data, "type", "")):
            return matrix_rotation(np.frombuffer(bytes(side_data), dtype=np.int32)[:9])
    try:
        return -float(stream.metadata.get("rotate", 0))
    except ValueError:
        return 0.0


def _import_av():
    try:
        import av
    except ImportError:
        raise DataError("lssat prepare needs PyAV to decode videos: pip install 'lssat-framework[video]'") from None
    return av


def _presentation_times(av, path: Path) -> list[float]:
    """The frames' presentation times in seconds, ascending; demuxing alone is cheap, as the
    packets carry them. Without timestamps, the decoded frames are counted instead."""
    with av.open(str(path)) as container:
        if not container.streams.video:
            raise DataError(f"{path} holds no video stream")
        stream = container.streams.video[0]
        stamps = sorted(float(p.pts * stream.time_base) for p in container.demux(stream) if p.pts is not None)
    if stamps:
        return stamps
    with av.open(str(path)) as container:
        return [float(index) for index, _ in enumerate(container.decode(video=0))]


def read_frames(path: Path, count: int) -> tuple[list[np.ndarray], int]:
    """Up to ``count`` upright RGB frames evenly spaced in time, and the video's frame count."""
    av = _import_av()
    try:
        times = _presentation_times(av, path)
        wanted = set(pick_by_time(times, count))
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            frames, last = [], max(wanted, default=-1)
            for index, frame in enumerate(container.decode(stream)):  # decoded frames come in presentation order
                if index in wanted:
                    frames.append(upright(frame.to_ndarray(format="rgb24"), _rotation(frame, stream)))
                if index >= last:
                    break
    except (av.error.FFmpegError, OSError) as exc:
        raise DataError(f"cannot decode video {path}: {exc}") from None
    if not frames:
        raise DataError(f"video {path} has no frames")
    return frames, len(times)
