"""`lssat prepare ffpp` on generated videos: frames extracted, cropped to the face and read back
by the dataset; its arguments; when a video counts as done (its marker records the settings asked
now); one prepare per ROOT; the report; workers and the videos that fail."""

import json

import pytest
from PIL import Image

import lssat_framework as lssat
from lssat_framework import cli

from face_videos import TWELVE_LEVELS, face_frame, face_video, read_report, real_video, write_frames, write_video

av = pytest.importorskip("av")


# ----------------------------------------------------------- the command
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
    assert cli.main([*arguments[:4], "2", *arguments[5:]]) == 0  # other settings: done again, with the frames asked now
    assert "1 videos extracted, 0 already done" in capsys.readouterr().out
    assert len(list((tmp_path / "original_sequences" / "youtube" / "c23" / "images" / "000").glob("*.png"))) == 2


def test_a_video_asked_again_for_more_frames_than_it_gave_is_extracted_again(tmp_path, capsys):
    """Issue 16 item 25: the done marker records the count asked for, so asking more re-extracts."""
    write_video(real_video(tmp_path), [10 * i for i in range(8)])
    arguments = ["prepare", "ffpp", str(tmp_path), "--size", "16", "--methods", "Deepfakes", "--frames"]
    assert cli.main([*arguments, "2"]) == 0 and cli.main([*arguments, "4"]) == 0
    assert "1 videos extracted, 0 already done" in capsys.readouterr().out.splitlines()[-1]
    assert len(list((tmp_path / "original_sequences" / "youtube" / "c23" / "images" / "000").glob("*.png"))) == 4


# ----------------------------------------------------------- preparation at scale (issue 12)
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
    assert report["videos"]["original_sequences/youtube/c23/videos/000.mp4"] == {"status": "extracted", "written": 3, "faces": 3, "sampled": 3, "video_frames": 3, "tracks": 1, "crop_scale_spread": 0.0}
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
    assert "unknown face detector 'retinaface'; installed: dlib-cnn, dlib-hog, lbp-cascade, middle-quarter" in capsys.readouterr().err


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
