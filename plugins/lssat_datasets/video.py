"""Reading frames from a video as it is shown: picked evenly over its duration (by timestamp,
so a variable-frame-rate video is not sampled from its first second only) and turned upright
by the stream's display rotation (a phone's portrait video is stored sideways)."""

from __future__ import annotations

import math
from bisect import bisect_left
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lssat_framework.errors import DataError


def evenly(items: list, count: int) -> list:
    """``count`` items evenly spaced over ``items`` (all of them when there are no more)."""
    if len(items) <= count:
        return items
    step = len(items) / count
    return [items[int(i * step)] for i in range(count)]


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


def pick_linspace(length: int, count: int) -> list[int]:
    """DeepfakeBench's choice (``np.linspace(0, N - 1, count, dtype=int)``): the first and the last
    frame and ``count`` − 2 between, evenly by index; each frame once."""
    return sorted({int(i) for i in np.linspace(0, length - 1, count, dtype=int)}) if length else []


def pick(times: list[float], count: int, sampling: str = "spans") -> list[int]:
    """The indices of the frames to keep: ``spans`` (by time, :func:`pick_by_time`) or
    ``linspace`` (by index, :func:`pick_linspace`)."""
    return pick_linspace(len(times), count) if sampling == "linspace" else pick_by_time(times, count)


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


@dataclass
class SampledFrames:
    """The frames kept from one video."""

    #: upright RGB frames (H×W×3 uint8), evenly spaced in time
    frames: list[np.ndarray]
    #: the video's frame count (its packets with a timestamp)
    video_frames: int
    #: why reading stopped early (a truncated or damaged file), None when it did not
    error: str | None = None
    #: each kept frame's index in the video (in presentation order)
    indices: list[int] | None = None
    #: each kept frame's time in seconds from the first frame's (its index where the video has no timestamps)
    times: list[float] | None = None


def _presentation_times(av, path: Path) -> tuple[list[float], str | None]:
    """The frames' presentation times in seconds, ascending, and why demuxing stopped early (None
    when it did not); demuxing alone is cheap, as the packets carry them. Without timestamps, the
    decoded frames are counted instead."""
    error = None
    with av.open(str(path)) as container:
        if not container.streams.video:
            raise DataError(f"{path} holds no video stream")
        stream = container.streams.video[0]
        stamps = []
        try:
            stamps += [float(p.pts * stream.time_base) for p in container.demux(stream) if p.pts is not None]
        except av.error.FFmpegError as exc:
            error = f"the file is damaged after {len(stamps)} frames: {exc}"
        listed = stream.frames  # what the header says; 0 when it does not say
        if error is None and listed and len(stamps) < listed:
            error = f"truncated: the header lists {listed} frames, {len(stamps)} could be read"
    if stamps:
        return sorted(stamps), error
    with av.open(str(path)) as container:
        return [float(index) for index, _ in enumerate(container.decode(video=0))], error


def sample_frames(path: Path, count: int, sampling: str = "spans") -> SampledFrames:
    """Up to ``count`` upright RGB frames picked by ``sampling`` (:func:`pick`), decoded as a stream: only the
    frames kept are converted and held, so memory does not grow with the video's length. A video
    that stops early keeps the frames decoded before the damage; one that cannot be opened or
    yields no frame is a :class:`DataError`."""
    av = _import_av()
    frames: list[np.ndarray] = []
    indices: list[int] = []
    try:
        times, error = _presentation_times(av, path)
        wanted = set(pick(times, count, sampling))
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            last = max(wanted, default=-1)
            try:
                for index, frame in enumerate(container.decode(stream)):  # decoded frames come in presentation order
                    if index in wanted:
                        frames.append(upright(frame.to_ndarray(format="rgb24"), _rotation(frame, stream)))
                        indices.append(index)
                    if index >= last:
                        break
            except av.error.FFmpegError as exc:
                if not frames:
                    raise
                error = error or f"decoding stopped after {len(frames)} of the sampled frames: {exc}"
    except (av.error.FFmpegError, OSError) as exc:
        raise DataError(f"cannot decode video {path}: {exc}") from None
    if not frames:
        raise DataError(f"video {path} has no frames")
    return SampledFrames(frames, len(times), error, indices, [times[i] - times[0] for i in indices])


def read_frames(path: Path, count: int) -> tuple[list[np.ndarray], int]:
    """Up to ``count`` upright RGB frames evenly spaced in time, and the video's frame count."""
    sampled = sample_frames(path, count)
    return sampled.frames, sampled.video_frames
