"""`lssat prepare ffpp` on generated videos: frames extracted, cropped to the face and read back
by the dataset; its arguments; when a video counts as done; which frames it takes (by time,
upright)."""

import json
from fractions import Fraction

import numpy as np
import pytest
from PIL import Image

import lssat_framework as lssat
from lssat_framework import cli

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


def test_prepare_ffpp_extracts_frames_resumably_and_the_dataset_reads_them(tmp_path, capsys):
    root = tmp_path / "ffpp"
    pairs = {"train": [["000", "001"]], "val": [["002", "003"]], "test": [["004", "005"]]}
    for split, split_pairs in pairs.items():
        root.mkdir(exist_ok=True)
        (root / f"{split}.json").write_text(json.dumps(split_pairs))
        for a, b in split_pairs:
            for video in (a, b):
                write_video(real_video(root, video), TWELVE_LEVELS)
            for video in (f"{a}_{b}", f"{b}_{a}"):
                write_video(root / "manipulated_sequences" / "FaceSwap" / "c23" / "videos" / f"{video}.mp4", TWELVE_LEVELS)
    assert cli.main(["prepare", "ffpp", str(root), "--frames", "3", "--size", "32", "--methods", "FaceSwap"]) == 0
    assert "12 videos extracted, 0 already done" in capsys.readouterr().out
    frames = sorted((root / "original_sequences" / "youtube" / "c23" / "images" / "000").glob("*.png"))
    assert [f.name for f in frames] == ["0000.png", "0001.png", "0002.png"]
    assert Image.open(frames[0]).size == (32, 32)
    assert cli.main(["prepare", "ffpp", str(root), "--frames", "3", "--size", "32", "--methods", "FaceSwap"]) == 0
    assert "0 videos extracted, 12 already done" in capsys.readouterr().out
    source = lssat.create("dataset", "ffpp", root=str(root), methods=["FaceSwap"], frames_per_video=3, image_size=16)
    assert len(source.split("train")) == 4 * 3


def test_prepare_ffpp_without_videos_says_where_they_belong(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert cli.main(["prepare", "ffpp", str(tmp_path / "empty")]) == 2
    assert "original_sequences/youtube/c23/videos" in capsys.readouterr().err


def test_face_cropper_finds_the_face_of_a_real_portrait_and_falls_back_to_the_centre():
    from skimage import data

    from lssat_datasets.prepare import FaceCropper

    top, left, side = FaceCropper().box(data.astronaut())  # the face spans rows ~80-180, columns ~170-280
    assert 80 < top + side / 2 < 180 and 170 < left + side / 2 < 280
    assert FaceCropper().box(np.zeros((100, 120, 3), np.uint8)) == (0, 10, 100)


@pytest.mark.parametrize("frames", ["0", "-1", "two"])
def test_frames_below_one_are_refused_with_a_clear_message(tmp_path, capsys, frames):
    """Issue 16 item 20: --frames 0 was a raw ZeroDivisionError and --frames -1 extracted nothing."""
    write_video(real_video(tmp_path), [50, 100])
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["prepare", "ffpp", str(tmp_path), "--frames", frames])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "argument --frames:" in err and ("at least 1" in err or "whole number" in err)


def test_a_video_shorter_than_the_frames_asked_for_is_done_after_one_run(tmp_path, capsys):
    """Issue 16 item 25: a video with fewer frames than --frames was decoded again on every run."""
    write_video(real_video(tmp_path), [50, 100])
    arguments = ["prepare", "ffpp", str(tmp_path), "--frames", "4", "--size", "16", "--methods", "Deepfakes"]
    assert cli.main(arguments) == 0
    assert "1 videos extracted, 0 already done" in capsys.readouterr().out
    assert len(list((tmp_path / "original_sequences" / "youtube" / "c23" / "images" / "000").glob("*.png"))) == 2
    assert cli.main(arguments) == 0
    assert "0 videos extracted, 1 already done" in capsys.readouterr().out
    assert cli.main([*arguments[:4], "2", *arguments[5:]]) == 0  # fewer frames than done: nothing to do
    assert "0 videos extracted, 1 already done" in capsys.readouterr().out


def test_a_video_asked_again_for_more_frames_than_it_gave_is_extracted_again(tmp_path, capsys):
    """Issue 16 item 25: the done marker records the count asked for, so asking more re-extracts."""
    write_video(real_video(tmp_path), [10 * i for i in range(8)])
    arguments = ["prepare", "ffpp", str(tmp_path), "--size", "16", "--methods", "Deepfakes", "--frames"]
    assert cli.main([*arguments, "2"]) == 0 and cli.main([*arguments, "4"]) == 0
    assert "1 videos extracted, 0 already done" in capsys.readouterr().out.splitlines()[-1]
    assert len(list((tmp_path / "original_sequences" / "youtube" / "c23" / "images" / "000").glob("*.png"))) == 4


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
