"""Which frames `lssat prepare` takes from a video: by time over its duration or at DeepfakeBench's
np.linspace, turned upright by the display rotation."""

import numpy as np
import pytest

from face_videos import write_video

av = pytest.importorskip("av")


def test_a_rotated_video_is_read_upright(tmp_path):
    """Issue 16 item 25: the display rotation was ignored, so a portrait phone video was written sideways."""
    from lssat_datasets.video import read_frames

    if not hasattr(av.video.stream.VideoStream, "set_display_rotation"):
        pytest.skip("this PyAV cannot write a display rotation")
    path = write_video(tmp_path / "rotated.mp4", [0, 0], size=(96, 72), rotation=90, marker=True)
    frames, count = read_frames(path, 1)
    assert count == 2 and frames[0].shape == (96, 72, 3)  # portrait, as displayed
    # 90° counter-clockwise: the stored top-left corner is shown bottom-left
    assert frames[0][-16:, :16].mean() > 200 and frames[0][:16, :16].mean() < 50


def test_the_rotation_is_read_from_side_data_where_frames_have_no_rotation(tmp_path):
    """Issue 16 item 25: PyAV before 14 has no ``VideoFrame.rotation``; the side data says it."""
    from lssat_datasets.video import _rotation

    if not hasattr(av.video.stream.VideoStream, "set_display_rotation"):
        pytest.skip("this PyAV cannot write a display rotation")

    class OlderFrame:
        def __init__(self, frame):
            self.side_data = list(frame.side_data)

    with av.open(str(write_video(tmp_path / "rotated.mp4", [0], rotation=-90))) as container:
        frame = next(container.decode(video=0))
        assert _rotation(OlderFrame(frame), container.streams.video[0]) == -90


def test_upright_turns_a_frame_by_the_display_rotation():
    """Issue 16 item 25: the rotation itself, for PyAV versions that cannot write one."""
    from lssat_datasets.video import upright

    frame = np.arange(6).reshape(2, 3)
    assert upright(frame, 0) is frame
    np.testing.assert_array_equal(upright(frame, 90), [[2, 5], [1, 4], [0, 3]])
    np.testing.assert_array_equal(upright(frame, -90), [[3, 0], [4, 1], [5, 2]])
    np.testing.assert_array_equal(upright(frame, 180), [[5, 4, 3], [2, 1, 0]])


def test_display_matrix_rotation_for_pyav_versions_without_frame_rotation():
    """Issue 16 item 25: the display matrix's rotation, as FFmpeg reads it (matrices PyAV writes)."""
    from lssat_datasets.video import matrix_rotation

    assert matrix_rotation([0, -65536, 0, 65536, 0, 0, 0, 0, 1 << 30]) == 90
    assert matrix_rotation([0, 65536, 0, -65536, 0, 0, 0, 0, 1 << 30]) == -90
    assert abs(matrix_rotation([-65536, 0, 0, 0, -65536, 0, 0, 0, 1 << 30])) == 180
    assert matrix_rotation([65536, 0, 0, 0, 65536, 0, 0, 0, 1 << 30]) == 0


def test_a_variable_frame_rate_video_is_sampled_evenly_over_its_duration(tmp_path):
    """Issue 16 item 25: frames were picked by index, so a video with ten frames in its first
    0.1 s and ten more over the next 10 s was sampled from its first second."""
    from lssat_datasets.video import read_frames

    times_ms = [10 * i for i in range(10)] + [1000 * (i + 1) for i in range(10)]
    levels = [10 * i for i in range(20)]  # each frame's gray level tells which it is
    frames, count = read_frames(write_video(tmp_path / "vfr.mp4", levels, times_ms), 4)
    assert count == 20
    # the frames nearest the centres of four equal spans of ~10.5 s: those shown at 1, 4, 7 and 9 s
    # (by index it took those at 0, 0.05, 1 and 6 s)
    np.testing.assert_allclose([frame.mean() for frame in frames], [100, 130, 160, 180], atol=6)


def test_pick_by_time_takes_each_frame_once_and_all_of_a_short_video():
    """Issue 16 item 25: the selection by timestamp on its own."""
    from lssat_datasets.video import pick_by_time

    assert pick_by_time([0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7], 4) == [1, 3, 5, 7]
    assert pick_by_time([0.0, 0.1], 4) == [0, 1]
    assert pick_by_time([0.0, 0.01, 0.02, 10.0], 3) == [2, 3]  # one frame shown for 10 s answers two targets once
    assert pick_by_time([0.0] * 6, 3) == [0, 2, 4]  # no usable timestamps: evenly by order


def test_linspace_takes_the_first_and_the_last_frame_as_deepfakebench():
    """Issue 24: DeepfakeBench's frames are np.linspace(0, N - 1, 32, dtype=int) by index."""
    from lssat_datasets.video import pick, pick_linspace

    assert pick_linspace(400, 32) == [int(i) for i in np.linspace(0, 399, 32, dtype=int)]
    assert pick_linspace(400, 32)[0] == 0 and pick_linspace(400, 32)[-1] == 399
    assert pick_linspace(3, 8) == [0, 1, 2] and pick_linspace(0, 4) == []
    assert pick([0.1 * i for i in range(8)], 4, "linspace") == [0, 2, 4, 7]
    assert pick([0.1 * i for i in range(8)], 4, "spans") == [1, 3, 5, 7]


def test_linspace_sampling_reads_the_frames_it_names(tmp_path):
    """Issue 24: the frames decoded are those np.linspace names, and their indices come back."""
    from lssat_datasets.video import sample_frames

    levels = [10 * i for i in range(20)]
    sampled = sample_frames(write_video(tmp_path / "v.mp4", levels), 4, "linspace")
    assert sampled.indices == [0, 6, 12, 19]
    np.testing.assert_allclose([frame.mean() for frame in sampled.frames], [0, 60, 120, 190], atol=6)
