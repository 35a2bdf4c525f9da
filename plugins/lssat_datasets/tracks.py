"""One steady face box per frame of a video's sampled frames, by face track.

A track is a run of sampled frames whose face stays near itself: it breaks where the face jumps
farther than its own size, or grows or shrinks more than twice, from one detection to the next (a
scene cut). A detection alone between two of one track that agree with each other is a false
detection and is dropped. Within a track, the face's size is a running median of its detections'
(nine wide), so the crop's scale does not follow the detector's jitter, and its centre a running
median of three; a frame without a detection takes the box interpolated between the track's
neighbours. Nothing is interpolated across a break: a frame between two tracks takes the box of
the nearer one's end.
"""

from __future__ import annotations

import numpy as np

from .faces import Box

#: a face that grows or shrinks more than this between two detections starts a new track
SIZE_JUMP = 2.0
#: detections over which a track's face size is the running median
SIZE_WINDOW = 9
CENTRE_WINDOW = 3


def _centre_size(box: Box) -> tuple[float, float, float]:
    top, left, height, width = box
    return top + height / 2, left + width / 2, max(height, width)


def is_cut(before: Box, after: Box) -> bool:
    """Whether the face moves farther than its own size, or changes size more than twice."""
    y0, x0, s0 = _centre_size(before)
    y1, x1, s1 = _centre_size(after)
    return float(np.hypot(y1 - y0, x1 - x0)) > max(s0, s1) or max(s0, s1) > SIZE_JUMP * min(s0, s1)


def drop_lone_detections(boxes: list[Box | None]) -> list[Box | None]:
    """``boxes`` without the detections that break from both neighbours while those agree."""
    found = [i for i, box in enumerate(boxes) if box is not None]
    kept = list(boxes)
    for before, here, after in zip(found, found[1:], found[2:]):
        if is_cut(boxes[before], boxes[here]) and is_cut(boxes[here], boxes[after]) and not is_cut(boxes[before], boxes[after]):
            kept[here] = None
    return kept


def track_ids(boxes: list[Box | None]) -> list[int | None]:
    """The track of each frame's detection (None: no detection), numbered from 0 in order."""
    ids: list[int | None] = [None] * len(boxes)
    track, previous = -1, None
    for index, box in enumerate(boxes):
        if box is None:
            continue
        if previous is None or is_cut(previous, box):
            track += 1
        ids[index], previous = track, box
    return ids


def _running_median(values: np.ndarray, window: int) -> np.ndarray:
    half = window // 2
    return np.array([np.median(values[max(0, i - half) : i + half + 1]) for i in range(len(values))])


def _track_boxes(frames: list[int], boxes: list[Box]) -> dict[int, tuple[float, float, float]]:
    """(centre y, centre x, size) of every frame from the track's first detection to its last."""
    rows = np.array([_centre_size(box) for box in boxes])
    centres = np.stack([_running_median(rows[:, k], CENTRE_WINDOW) for k in (0, 1)], axis=1)
    sizes = _running_median(rows[:, 2], SIZE_WINDOW)
    span = np.arange(frames[0], frames[-1] + 1)
    table = np.stack([np.interp(span, frames, centres[:, 0]), np.interp(span, frames, centres[:, 1]), np.interp(span, frames, sizes)], axis=1)
    return {int(i): tuple(float(v) for v in row) for i, row in zip(span, table)}


def steady_boxes(boxes: list[Box | None]) -> tuple[list[tuple[float, float, float]], list[int]] | None:
    """Per frame (centre y, centre x, face size) and its track; None when no frame has a face."""
    boxes = drop_lone_detections(boxes)
    ids = track_ids(boxes)
    tracks = sorted({i for i in ids if i is not None})
    if not tracks:
        return None
    planned: dict[int, tuple[float, float, float]] = {}
    owner: dict[int, int] = {}
    ends: list[tuple[int, int]] = []
    for track in tracks:
        frames = [i for i, t in enumerate(ids) if t == track]
        for frame, row in _track_boxes(frames, [boxes[i] for i in frames]).items():
            planned[frame], owner[frame] = row, track
        ends.append((frames[0], frames[-1]))
    for frame in range(len(boxes)):  # between tracks, or before the first / after the last
        if frame in planned:
            continue
        nearest = min(range(len(ends)), key=lambda k: min(abs(frame - ends[k][0]), abs(frame - ends[k][1])))
        first, last = ends[nearest]
        edge = first if abs(frame - first) < abs(frame - last) else last
        planned[frame], owner[frame] = planned[edge], tracks[nearest]
    return [planned[i] for i in range(len(boxes))], [owner[i] for i in range(len(boxes))]


def spread(values: list[float], tracks: list[int]) -> float:
    """The largest relative spread, (max − min) / median, of ``values`` within one track."""
    worst = 0.0
    for track in set(tracks):
        mine = np.array([v for v, t in zip(values, tracks) if t == track])
        if len(mine) > 1 and np.median(mine) > 0:
            worst = max(worst, float((mine.max() - mine.min()) / np.median(mine)))
    return worst
