"""What a preparation can be trusted with (issue 24): a video is done only when its marker records
the settings asked now, one prepare works in a ROOT at a time, the FF++ methods without videos are
named with the fix, and training takes the frames as they were prepared."""

import json

import pytest
from PIL import Image

import lssat_framework as lssat
from lssat_framework import cli

from face_videos import TWELVE_LEVELS, face_video, read_report, real_video, write_video

av = pytest.importorskip("av")


def test_a_killed_preparation_rerun_with_other_settings_redoes_the_video(tmp_path, capsys):
    """Issue 24: a frame folder without its marker counted as finished when it held --frames
    PNGs, so a run killed after writing 4 frames of 48 px, rerun at 2 frames of 16 px, said done."""
    face_video(real_video(tmp_path), count=6)
    images = tmp_path / "original_sequences" / "youtube" / "c23" / "images" / "000"
    arguments = ["prepare", "ffpp", str(tmp_path), "--workers", "1", "--methods", "Deepfakes"]
    assert cli.main([*arguments, "--frames", "4", "--size", "48"]) == 0
    (images / ".done.json").unlink()  # as a kill between the frames and the marker leaves it
    capsys.readouterr()
    assert cli.main([*arguments, "--frames", "2", "--size", "16"]) == 0
    assert "1 videos extracted, 0 already done" in capsys.readouterr().out
    assert [Image.open(p).size for p in sorted(images.glob("*.png"))] == [(16, 16)] * 2
    marker = json.loads((images / ".done.json").read_text())
    assert marker["settings"]["frames"] == 2 and marker["settings"]["size"] == 16
    assert cli.main([*arguments, "--frames", "2", "--size", "16", "--detector-param", "step_ratio=1.1"]) == 0  # a detector's param too
    assert "1 videos extracted, 0 already done" in capsys.readouterr().out
    assert cli.main([*arguments, "--frames", "2", "--size", "16", "--detector-param", "step_ratio=1.1"]) == 0
    assert "0 videos extracted, 1 already done" in capsys.readouterr().out


def test_two_prepares_on_one_root_the_second_exits_naming_the_first(tmp_path, capsys):
    """Issue 24: two `lssat prepare` on one ROOT both ran, and the last report replaced the other's."""
    import os

    from lssat_framework.files.lock import RunLock

    write_video(real_video(tmp_path), [90, 120], size=(96, 64))
    arguments = ["prepare", "ffpp", str(tmp_path), "--frames", "2", "--size", "16", "--workers", "1", "--methods", "Deepfakes"]
    with RunLock(tmp_path):  # as another prepare holds it
        assert cli.main(arguments) == 2
    err = capsys.readouterr().err
    assert f"another lssat prepare works in {tmp_path} (host" in err and f"pid {os.getpid()}" in err
    assert not (tmp_path / "original_sequences" / "youtube" / "c23" / "images").exists()
    (tmp_path / "writer.json").write_text(json.dumps({"host": __import__("socket").gethostname(), "pid": 2**22 + 12345, "heartbeat": 0}))
    assert cli.main(arguments) == 0  # a holder that died: taken over
    assert "taking over the lock" in capsys.readouterr().err
    assert not (tmp_path / "writer.json").exists() and read_report(tmp_path)["videos"]


def test_prepare_ffpp_names_the_methods_without_videos_and_how_to_name_those_present(tmp_path, capsys):
    """Issue 24: a tree without some default methods was prepared silently; training then failed
    naming a folder but not the fix."""
    write_video(real_video(tmp_path), [90, 120], size=(96, 64))
    write_video(tmp_path / "manipulated_sequences" / "Deepfakes" / "c23" / "videos" / "000_001.mp4", [90, 120], size=(96, 64))
    assert cli.main(["prepare", "ffpp", str(tmp_path), "--frames", "1", "--size", "16", "--workers", "1"]) == 0
    err = capsys.readouterr().err
    assert "no videos of Face2Face, FaceSwap, NeuralTextures, FaceShifter" in err
    assert f"lssat prepare ffpp {tmp_path} --methods Deepfakes" in err and "data.params.methods: [Deepfakes]" in err
    assert sorted(read_report(tmp_path)["missing"]) == ["Face2Face", "FaceShifter", "FaceSwap", "NeuralTextures"]


def test_training_takes_the_prepared_frame_count_and_size_unless_the_spec_says_otherwise(tmp_path, capsys):
    """Issue 24: the readers took 8 frames of 128 px whatever was prepared (DeepfakeBench: 32 of 256)."""
    write_video(real_video(tmp_path, "000"), TWELVE_LEVELS)
    write_video(real_video(tmp_path, "001"), TWELVE_LEVELS)
    for fake in ("000_001", "001_000"):
        write_video(tmp_path / "manipulated_sequences" / "FaceSwap" / "c23" / "videos" / f"{fake}.mp4", TWELVE_LEVELS)
    (tmp_path / "train.json").write_text(json.dumps([["000", "001"]]))
    for split in ("val", "test"):
        (tmp_path / f"{split}.json").write_text("[]")
    assert cli.main(["prepare", "ffpp", str(tmp_path), "--frames", "5", "--size", "40", "--workers", "1", "--methods", "FaceSwap"]) == 0
    source = lssat.create("dataset", "ffpp", root=str(tmp_path), methods=["FaceSwap"])
    assert source.info.image_size == (40, 40) and len(source.split("train")) == 4 * 5
    source = lssat.create("dataset", "ffpp", root=str(tmp_path), methods=["FaceSwap"], frames_per_video=2, image_size=16)
    assert source.info.image_size == (16, 16) and len(source.split("train")) == 4 * 2
    (tmp_path / "prepare_report.json").write_text('{"settings": {"frames": "many", "size": true}}')  # not whole numbers: not used
    source = lssat.create("dataset", "ffpp", root=str(tmp_path), methods=["FaceSwap"])
    assert source.info.image_size == (128, 128) and len(source.split("train")) == 4 * 5  # all 5 frames: fewer than 8


def test_a_method_without_its_folder_names_the_methods_present():
    """Issue 24: training on a tree without some default methods named a folder, not the fix."""
    import tempfile
    from pathlib import Path

    from lssat_framework.errors import DataError

    root = Path(tempfile.mkdtemp())
    (root / "original_sequences" / "youtube" / "c23").mkdir(parents=True)
    (root / "manipulated_sequences" / "Deepfakes" / "c23").mkdir(parents=True)
    with pytest.raises(DataError, match=r"no folder .*Face2Face/c23 for the method Face2Face; set data.params.methods to those present, \[Deepfakes\]"):
        lssat.create("dataset", "ffpp", root=str(root))


def test_the_face_settings_a_preparation_records_build_the_same_face_finder(tmp_path):
    """Issue 24 for issue 26: another command finds faces exactly as the frames were prepared,
    from the settings recorded as data, through the registry."""
    from lssat_datasets.facepath import FaceFinder, FaceSettings
    from lssat_datasets.reader import preparation_record
    from lssat_framework.errors import DataError

    face_video(real_video(tmp_path), count=2)
    arguments = ["prepare", "ffpp", str(tmp_path), "--frames", "2", "--size", "24", "--workers", "1", "--methods", "Deepfakes"]
    assert cli.main([*arguments, "--detector-param", "detect_height=180"]) == 0
    settings = FaceSettings.from_record(preparation_record(tmp_path))
    assert settings == FaceSettings(detector_params={"detect_height": 180, "scale_factor": 1.2, "step_ratio": 1.25, "fine_step_ratio": 1.0}, size=24)
    finder = FaceFinder.from_settings(settings)
    assert finder.detector.detect_height == 180 and finder.settings.size == 24
    (tmp_path / "prepare_report.json").write_text('{"settings": {"detector": 3}}')
    with pytest.raises(DataError, match="are not those lssat prepare records"):
        FaceSettings.from_record(preparation_record(tmp_path))


def test_the_readers_take_the_frames_of_the_layout_last_prepared(tmp_path, capsys):
    """Issue 24: prepared once as lssat lays frames out (images/) and again with the deepfakebench
    profile's layout (frames/), training reads the frames the report describes, not the older ones."""
    for video in ("000", "001"):
        write_video(real_video(tmp_path, video), TWELVE_LEVELS)
    for fake in ("000_001", "001_000"):
        write_video(tmp_path / "manipulated_sequences" / "FaceSwap" / "c23" / "videos" / f"{fake}.mp4", TWELVE_LEVELS)
    (tmp_path / "train.json").write_text(json.dumps([["000", "001"]]))
    for split in ("val", "test"):
        (tmp_path / f"{split}.json").write_text("[]")
    arguments = ["prepare", "ffpp", str(tmp_path), "--size", "16", "--workers", "1", "--methods", "FaceSwap"]
    assert cli.main([*arguments, "--frames", "2"]) == 0
    assert cli.main([*arguments, "--frames", "3", "--layout", "deepfakebench", "--sampling", "linspace"]) == 0
    frames = tmp_path / "original_sequences" / "youtube" / "c23" / "frames" / "000"
    assert sorted(p.name for p in frames.glob("*.png")) == ["000.png", "005.png", "011.png"]  # np.linspace(0, 11, 3)
    train = lssat.create("dataset", "ffpp", root=str(tmp_path), methods=["FaceSwap"]).split("train")
    assert len(train) == 4 * 3 and all("/frames/" in str(train.samples[i].path) for i in range(len(train)))


def test_a_link_planted_in_the_root_is_never_written_through(tmp_path, capsys):
    """The report was written to ROOT/.prepare_report.json.tmp and renamed: a link planted under
    that name in a dataset from elsewhere had prepare write its report into the link's target."""
    root, outside = tmp_path / "root", tmp_path / "outside.txt"
    face_video(real_video(root), count=3)
    outside.write_text("kept\n")
    (root / ".prepare_report.json.tmp").symlink_to(outside)
    assert cli.main(["prepare", "ffpp", str(root), "--workers", "1", "--methods", "Deepfakes", "--frames", "2", "--size", "16"]) == 0
    assert outside.read_text() == "kept\n"
    assert read_report(root)["summary"]["videos"] == 1 and not (root / "prepare_report.json").is_symlink()
