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


# ----------------------------------------------------------- preparation at scale (issue 12)
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


def test_every_crop_is_the_face_for_faces_from_8_to_60_percent_of_the_frame_height(tmp_path):
    """Issue 12: faces below 1/8 of the frame were never searched, and the centre square was
    written instead. At 640×360, 8 % is 29 px, above the cascade's 24 px window."""
    from lssat_datasets.faces import FaceCropper
    from lssat_datasets.video import sample_frames

    placements = [(0.08, 0.15, 0.3), (0.12, 0.25, 0.35), (0.2, 0.35, 0.45), (0.3, 0.5, 0.5), (0.45, 0.6, 0.5), (0.6, 0.7, 0.5)]
    frames, faces = zip(*(face_frame(640, 360, *placement) for placement in placements))
    sampled = sample_frames(write_frames(tmp_path / "sizes.mp4", list(frames)), len(frames))
    crops, found = FaceCropper().boxes(sampled.frames)
    assert found == [True] * len(placements)
    for (top, left, side), (face_top, face_left, face_height, face_width) in zip(crops, faces):
        assert face_top < top + side / 2 < face_top + face_height and face_left < left + side / 2 < face_left + face_width
        assert 0.9 * face_height < side < 2.2 * face_height


def test_a_frame_without_a_detection_takes_its_neighbours_box_and_one_jump_is_smoothed_out():
    """Issue 12: boxes smoothed over the sampled frames."""
    from lssat_datasets.faces import smooth_boxes

    boxes = [(10, 10, 20, 20), None, (30, 30, 20, 20), (200, 200, 80, 80), (50, 50, 20, 20), None]
    smoothed = smooth_boxes(boxes)
    assert smoothed[1] == (20, 20, 20, 20)  # halfway between its neighbours
    assert smoothed[3] == (50, 50, 20, 20)  # a one-frame false detection does not survive the median
    assert smoothed[5] == (50, 50, 20, 20)  # the last frame takes its only neighbour's box
    assert smooth_boxes([None, None]) is None


def _peak_bytes(root, video_frames):
    import tracemalloc

    from lssat_datasets.extract import Settings
    from lssat_datasets.faces import LbpCascade
    from lssat_datasets.prepare import prepare

    frame = face_frame(640, 360, 0.3, 0.5, 0.5)[0]
    video = write_frames(real_video(root), [frame] * video_frames)
    tracemalloc.start()
    try:
        prepare("ffpp", root, [video], Settings(4, 32, LbpCascade), workers=1)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_peak_memory_does_not_grow_with_the_video_length(tmp_path):
    """Issue 12: every frame of a video was decoded into a list before a few were picked, so a
    long 1080p video took gigabytes. Only the sampled frames are kept now."""
    short, long = _peak_bytes(tmp_path / "short", 100), _peak_bytes(tmp_path / "long", 400)
    assert abs(long - short) < 0.1 * short, (short, long)
    assert long < 40 * 640 * 360 * 3  # the few sampled frames and the detector's copies, not 400 frames (276 MB)


def test_two_workers_write_the_same_files_as_one(tmp_path):
    """Issue 12: --workers N processes, each with its own detector."""
    import shutil

    first = tmp_path / "one"
    for name in ("000", "001", "002"):
        face_video(real_video(first, name), count=4)
    shutil.copytree(first, tmp_path / "two")
    for root, workers in ((first, "1"), (tmp_path / "two", "2")):
        assert cli.main(["prepare", "ffpp", str(root), "--frames", "2", "--size", "24", "--workers", workers]) == 0

    def files(root):
        return {p.relative_to(root): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file() and p.suffix != ".json"}

    assert files(first) == files(tmp_path / "two") and len(files(first)) == 3 + 3 * 2
    assert read_report(first)["videos"] == read_report(tmp_path / "two")["videos"]


def test_the_report_counts_a_video_without_a_face_and_min_face_rate_drops_it(tmp_path, capsys):
    """Issue 12: the centre square was written silently when no face was found."""
    face_video(real_video(tmp_path, "000"))
    write_video(real_video(tmp_path, "001"), [90, 120, 150], size=(320, 180))
    arguments = ["prepare", "ffpp", str(tmp_path), "--frames", "3", "--size", "16", "--workers", "1"]
    assert cli.main(arguments) == 0
    assert "faces found in 3 of 6 frames; 1 videos with no face" in capsys.readouterr().out
    report = read_report(tmp_path)
    assert report["no_face"] == ["original_sequences/youtube/c23/videos/001.mp4"]
    assert report["videos"]["original_sequences/youtube/c23/videos/000.mp4"] == {"status": "extracted", "written": 3, "faces": 3, "sampled": 3, "video_frames": 3}
    assert cli.main([*arguments, "--min-face-rate", "0.5"]) == 0  # done videos are dropped too, without decoding them again
    assert "1 dropped below --min-face-rate" in capsys.readouterr().out
    assert read_report(tmp_path)["dropped"] == ["original_sequences/youtube/c23/videos/001.mp4"]
    assert not list((tmp_path / "original_sequences/youtube/c23/images/001").glob("*.png"))
    assert len(list((tmp_path / "original_sequences/youtube/c23/images/000").glob("*.png"))) == 3


def test_an_unreadable_and_a_truncated_video_are_reported_and_the_good_ones_all_prepared(tmp_path, capsys):
    """Issue 12: one unreadable .mp4 among three ended the command at the first video."""
    for name in ("000", "003"):
        face_video(real_video(tmp_path, name))
    real_video(tmp_path, "001").write_bytes(b"not a video" * 100)
    whole = face_video(tmp_path / "whole.mp4", count=12, faststart=True).read_bytes()
    real_video(tmp_path, "002").write_bytes(whole[: len(whole) * 3 // 4])
    assert cli.main(["prepare", "ffpp", str(tmp_path), "--frames", "3", "--size", "16", "--workers", "2"]) == 1
    captured = capsys.readouterr()
    assert "2 videos extracted" in captured.out and "2 failed" in captured.out
    assert "001.mp4: cannot decode video" in captured.err and "002.mp4: truncated" in captured.err
    images = tmp_path / "original_sequences" / "youtube" / "c23" / "images"
    assert [len(list((images / name).glob("*.png"))) for name in ("000", "003")] == [3, 3]
    assert not (images / "001").exists()  # nothing half-made
    assert list((images / "002").glob("*.png")) and not (images / "002" / ".done.json").exists()  # kept, tried again
    failed = read_report(tmp_path)["failed"]
    assert sorted(failed) == ["original_sequences/youtube/c23/videos/001.mp4", "original_sequences/youtube/c23/videos/002.mp4"]


def test_a_killed_preparation_resumes_where_it_stopped(tmp_path, capsys):
    """Issue 12: resumable with workers: a video whose marker is missing is extracted again, its
    half-written files cleared; finished videos are skipped."""
    for name in ("000", "001"):
        face_video(real_video(tmp_path, name))
    arguments = ["prepare", "ffpp", str(tmp_path), "--frames", "3", "--size", "16", "--workers", "1"]
    assert cli.main(arguments) == 0
    stopped = tmp_path / "original_sequences" / "youtube" / "c23" / "images" / "001"
    (stopped / ".done.json").unlink()  # as a kill between the frames and the marker leaves it
    (stopped / "0002.png").unlink()
    (stopped / ".0002.png.tmp").write_bytes(b"half")
    capsys.readouterr()
    assert cli.main(arguments) == 0
    assert "1 videos extracted, 1 already done" in capsys.readouterr().out
    assert sorted(p.name for p in stopped.iterdir()) == [".done.json", "0000.png", "0001.png", "0002.png"]


class CrashOnGrayDetector:
    """A test detector whose process dies on a uniform gray frame, as a crash in native code does."""

    def __call__(self, frame):
        import os

        if frame.std() < 2:
            os._exit(1)
        return []


class WholeFrameDetector:
    """A test detector: the face is the frame's middle quarter."""

    def __call__(self, frame):
        height, width = frame.shape[:2]
        return [(height / 4, width / 4, height / 2, width / 2)]


def test_a_plugin_adds_a_face_detector_and_an_unknown_one_is_named(tmp_path, capsys):
    """Issue 12: detectors are components a plugin can add (the register_face_detectors hook)."""
    from lssat_framework import hookimpl
    from lssat_framework.plugins import get_plugin_manager

    class Plugin:
        @staticmethod
        @hookimpl
        def register_face_detectors(register):
            register("middle-quarter", WholeFrameDetector, None, "the frame's middle")

    get_plugin_manager().add_plugin(Plugin(), name="test-detectors")
    write_video(real_video(tmp_path), [90, 120], size=(96, 64))
    arguments = ["prepare", "ffpp", str(tmp_path), "--frames", "2", "--size", "16", "--workers", "1"]
    assert cli.main([*arguments, "--detector", "middle-quarter"]) == 0
    assert "faces found in 2 of 2 frames" in capsys.readouterr().out
    assert cli.main([*arguments, "--detector", "retinaface"]) == 2
    assert "unknown face detector 'retinaface'; installed: dlib-hog, lbp-cascade, middle-quarter" in capsys.readouterr().err


def test_dlib_hog_finds_the_face_of_a_real_portrait():
    """Issue 12: dlib's HOG detector (the dlib extra), as DeepfakeBench uses."""
    pytest.importorskip("dlib")
    from skimage import data

    from lssat_datasets.faces import DlibHog, FaceCropper

    top, left, side = FaceCropper(DlibHog()).box(data.astronaut())
    assert 80 < top + side / 2 < 180 and 170 < left + side / 2 < 280


def test_detector_params_are_checked_before_any_video_is_read(tmp_path, capsys):
    """Issue 12: --detector-param KEY=VALUE reaches the detector's params model."""
    assert cli.main(["prepare", "ffpp", str(tmp_path), "--detector-param", "detect_height=10"]) == 2
    assert "--detector-param for lbp-cascade: detect_height" in capsys.readouterr().err


def test_a_video_that_kills_its_worker_fails_alone(tmp_path, capsys):
    """Issue 12: one bad video never stops the rest, also when it takes its worker process down
    (the pool breaks; the videos in flight are run again one by one)."""
    from lssat_datasets.extract import Settings
    from lssat_datasets.prepare import prepare

    good = face_video(real_video(tmp_path, "000"), count=2)
    poison = write_video(real_video(tmp_path, "001"), [90, 90], size=(96, 64))
    report = prepare("ffpp", tmp_path, [good, poison], Settings(2, 16, CrashOnGrayDetector), workers=2)
    assert report.videos["original_sequences/youtube/c23/videos/000.mp4"]["written"] == 2
    assert list(report.failed) == ["original_sequences/youtube/c23/videos/001.mp4"]
    assert "worker process died on this video" in report.failed["original_sequences/youtube/c23/videos/001.mp4"]
