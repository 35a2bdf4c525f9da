"""One steady crop per face track on the default path (no extra needed), issue 24 item 4: the crop's
side follows the track's smoothed face size, not each frame's detection; a track breaks where the
face jumps (a scene cut) and nothing is interpolated across the break; a lone false detection is
dropped; the report gives each video's crop-scale spread."""

import numpy as np
import pytest

from lssat_framework import cli

from face_videos import face_frame, read_report, real_video, write_frames

pytest.importorskip("av")


def finder():
    from lssat_datasets.facepath import FaceFinder, FaceSettings
    from lssat_datasets.faces import LbpCascade

    return FaceFinder(FaceSettings(), LbpCascade())


def test_the_crop_of_a_real_portrait_is_its_face_and_a_frame_without_one_the_centre():
    from skimage import data

    found = finder()
    plan = found.plan([data.astronaut()], found.faces([data.astronaut()]))
    top, left, side = plan.crops[0].square  # the face spans rows ~80-180, columns ~170-280
    assert 80 < top + side / 2 < 180 and 170 < left + side / 2 < 280 and plan.found == [True]
    empty = np.zeros((100, 120, 3), np.uint8)
    assert found.plan([empty], found.faces([empty])).crops[0].square == (0, 10, 100)


def test_every_crop_is_the_face_for_faces_from_8_to_60_percent_of_the_frame_height(tmp_path):
    """Issue 12: faces below 1/8 of the frame were never searched. At 640×360, 8 % is 29 px,
    above the cascade's 24 px window."""
    from lssat_datasets.video import sample_frames

    placements = [(0.08, 0.15, 0.3), (0.12, 0.25, 0.35), (0.2, 0.35, 0.45), (0.3, 0.5, 0.5), (0.45, 0.6, 0.5), (0.6, 0.7, 0.5)]
    frames, faces = zip(*(face_frame(640, 360, *placement) for placement in placements))
    sampled = sample_frames(write_frames(tmp_path / "sizes.mp4", list(frames)), len(frames))
    found = finder()
    plan = found.plan(sampled.frames, found.faces(sampled.frames))
    assert plan.found == [True] * len(placements)
    for crop, (face_top, face_left, face_height, face_width) in zip(plan.crops, faces):
        top, left, side = crop.square
        assert face_top < top + side / 2 < face_top + face_height and face_left < left + side / 2 < face_left + face_width
        assert 0.9 * face_height < side < 2.2 * face_height


def moving_face(count, width=320, height=180):
    """Frames of a face of 35 % of the height moving across and up and down, and its true boxes."""
    placed = [face_frame(width, height, 0.35, 0.2 + 0.6 * i / (count - 1), 0.5 + 0.1 * np.sin(i / 2)) for i in range(count)]
    return [frame for frame, _ in placed], [box for _, box in placed]


def test_a_moving_face_is_cropped_at_one_steady_scale(tmp_path, capsys):
    """Issue 24: each frame's cascade box was used as is, so one video's crops ranged from the
    face filling the crop to the face at 40 % of it. The face here keeps its size: so must the crops."""
    from lssat_datasets.video import sample_frames

    frames, boxes = moving_face(12)
    video = write_frames(real_video(tmp_path), frames)
    assert cli.main(["prepare", "ffpp", str(tmp_path), "--frames", "12", "--size", "32", "--workers", "1"]) == 0
    record = read_report(tmp_path)["videos"]["original_sequences/youtube/c23/videos/000.mp4"]
    assert record["tracks"] == 1 and record["faces"] >= 10
    assert record["crop_scale_spread"] < 0.15, record
    found = finder()  # the same steps, each crop measured against the face's true box
    sampled = sample_frames(video, 12)
    plan = found.plan(sampled.frames, found.faces(sampled.frames))
    sides = np.array([crop.square[2] for crop in plan.crops])
    assert (sides.max() - sides.min()) / np.median(sides) < 0.15
    for crop, (face_top, face_left, face_height, face_width) in zip(plan.crops, boxes):
        top, left, side = crop.square
        assert top <= face_top + face_height / 4 and top + side >= face_top + face_height * 3 / 4  # the face is in it
        assert left <= face_left + face_width / 4 and left + side >= face_left + face_width * 3 / 4
        assert 1.0 < side / face_height < 2.0


def test_no_crop_lands_between_the_two_sides_of_a_scene_cut(tmp_path, capsys):
    """Issue 24: where the face jumps (a cut), boxes interpolated between the two positions
    cropped half a face. Two tracks now, and each crop holds its own frame's face."""
    left = [face_frame(320, 180, 0.45, 0.25, 0.5)] * 4
    right = [face_frame(320, 180, 0.3, 0.75, 0.4)] * 4
    frames, boxes = zip(*(left + right))
    write_frames(real_video(tmp_path), list(frames))
    assert cli.main(["prepare", "ffpp", str(tmp_path), "--frames", "8", "--size", "32", "--workers", "1"]) == 0
    assert read_report(tmp_path)["videos"]["original_sequences/youtube/c23/videos/000.mp4"]["tracks"] == 2
    found = finder()
    plan = found.plan(list(frames), found.faces(list(frames)))
    for crop, (face_top, face_left, face_height, face_width) in zip(plan.crops, boxes):
        top, left_edge, side = crop.square
        assert face_top < top + side / 2 < face_top + face_height and face_left < left_edge + side / 2 < face_left + face_width


def test_frames_without_a_detection_beside_a_cut_take_the_nearer_track_not_a_blend():
    from lssat_datasets.tracks import steady_boxes

    here, there = (100, 100, 50, 50), (300, 500, 80, 80)
    boxes, tracks = steady_boxes([here, here, here, None, None, there, there, there])
    assert tracks == [0, 0, 0, 0, 1, 1, 1, 1]
    assert boxes[3] == (125, 125, 50) and boxes[4] == (340, 540, 80)  # (centre y, centre x, size): no position between


def test_a_lone_false_detection_is_dropped_and_a_missed_frame_interpolated():
    from lssat_datasets.tracks import steady_boxes

    face, false = (100, 100, 50, 50), (10, 400, 20, 20)
    boxes, tracks = steady_boxes([face, face, false, face, None, (100, 110, 50, 50), face])
    assert set(tracks) == {0} and boxes[2] == (125, 125, 50)
    assert boxes[4] == (125, 125, 50)  # the running median of three keeps the centre; a size from nine detections
    assert steady_boxes([None, None]) is None
