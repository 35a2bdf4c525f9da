"""Face detectors and landmarkers are components like the others (issue 24 item 7): a name two
plugins register is an ambiguity error naming the qualified names, `lssat plugins` and `lssat list`
show them, `lssat plugins --check` resolves their references; a plugin's landmarker aligns."""

import json

import numpy as np
import pytest
from PIL import Image

from lssat_framework import cli, hookimpl
from lssat_framework.plugins import get_plugin_manager

from face_videos import read_report, real_video, write_frames, write_video

pytest.importorskip("av")


class MiddleQuarter:
    """A test detector: the face is the frame's middle quarter."""

    def __call__(self, frame):
        height, width = frame.shape[:2]
        return [(height / 4, width / 4, height / 2, width / 2)]


class TemplateInBox:
    """A test landmarker: the five points where DeepfakeBench's template puts them in a crop of
    the box at scale 1, so the aligned crop is the box itself."""

    def __call__(self, frame, box):
        from lssat_datasets.align import template

        top, left, height, width = box
        return template(100, 1.0) * [width / 100, height / 100] + [left, top]


class Plugin:
    @staticmethod
    @hookimpl
    def register_face_detectors(register):
        register("lbp-cascade", MiddleQuarter, None, "a second detector of that name")
        register("broken-detector", "no_such_module_anywhere:Detector", None, "a reference that does not import")

    @staticmethod
    @hookimpl
    def register_face_landmarkers(register):
        register("template-in-box", TemplateInBox, None, "the template's points in the box")


def add_test_plugin():
    get_plugin_manager().add_plugin(Plugin(), name="test-faces")


def test_a_detector_name_two_plugins_register_is_an_ambiguity_error_with_qualified_names(tmp_path, capsys):
    add_test_plugin()
    write_video(real_video(tmp_path), [90, 120], size=(96, 64))
    arguments = ["prepare", "ffpp", str(tmp_path), "--frames", "2", "--size", "16", "--workers", "1"]
    assert cli.main([*arguments, "--detector", "lbp-cascade"]) == 2
    err = capsys.readouterr().err
    assert "--detector: face_detector 'lbp-cascade' is registered by 2 plugins" in err
    assert "'datasets/lbp-cascade'" in err and "'test-faces/lbp-cascade'" in err
    assert cli.main([*arguments, "--detector", "test-faces/lbp-cascade"]) == 0
    assert "faces found in 2 of 2 frames" in capsys.readouterr().out
    assert read_report(tmp_path)["settings"]["detector"] == "test-faces/lbp-cascade"


def test_lssat_plugins_and_list_show_detectors_and_landmarkers_and_check_resolves_them(capsys):
    add_test_plugin()
    assert cli.main(["plugins", "--json"]) == 0
    plugins = {info["name"]: info["components"] for info in json.loads(capsys.readouterr().out)}
    assert {"lbp-cascade", "dlib-hog", "dlib-cnn"} <= set(plugins["datasets"]["face_detector"])
    assert plugins["datasets"]["face_landmarker"] == ["dlib-68"]
    assert plugins["test-faces"] == {"face_detector": ["lbp-cascade", "broken-detector"], "face_landmarker": ["template-in-box"]}
    assert cli.main(["list", "face_detector"]) == 0
    listed = capsys.readouterr().out
    assert "datasets/lbp-cascade" in listed and "test-faces/lbp-cascade" in listed and "dlib-cnn" in listed
    assert cli.main(["plugins", "--check"]) == 2
    err = capsys.readouterr().err
    assert "the face_detector 'broken-detector' is built by 'no_such_module_anywhere:Detector'" in err
    assert err.count("lssat: error:") == 1  # the shipped detectors and landmarker resolve


def test_a_plugin_landmarker_aligns_the_crops_and_the_report_records_it(tmp_path, capsys):
    """The aligned path with a plugin's landmarker: with the template's points at scale 1 in the
    box, the crop at scale 1.3 is the box in its middle 1/1.3, a margin of 15 % around it."""
    add_test_plugin()
    frame = np.zeros((64, 64, 3), np.uint8)
    frame[16:48, 16:48] = 200  # the box the test detector finds, bright
    write_frames(real_video(tmp_path), [frame, frame])
    arguments = ["prepare", "ffpp", str(tmp_path), "--frames", "2", "--size", "32", "--workers", "1", "--detector", "test-faces/lbp-cascade"]
    assert cli.main([*arguments, "--align", "--landmarker", "template-in-box"]) == 0
    capsys.readouterr()
    crop = np.asarray(Image.open(tmp_path / "original_sequences/youtube/c23/images/000/0000.png"))
    assert crop.shape == (32, 32, 3) and crop[6:-6, 6:-6].min() > 170  # the box: 24.6 px in the middle
    assert crop[:3].max() < 60 and crop[-3:].max() < 60 and crop[:, :3].max() < 60 and crop[:, -3:].max() < 60  # the margin
    settings = read_report(tmp_path)["settings"]
    assert settings["align"] is True and settings["landmarker"] == "template-in-box" and settings["scale"] == 1.3
    assert cli.main([*arguments, "--align", "--landmarker", "nobody-has-this"]) == 2
    assert "--landmarker: unknown face landmarker 'nobody-has-this'; installed: dlib-68, template-in-box" in capsys.readouterr().err


@pytest.mark.parametrize("absent,needs", [("dlib", "needs dlib: pip install 'lssat-framework[faces]'"),
                                          ("face_recognition_models", "from the package face-recognition-models: pip install 'lssat-framework[faces]'")])
def test_the_profile_without_the_faces_extra_names_it_before_any_video_is_read(tmp_path, capsys, monkeypatch, absent, needs):
    import sys

    monkeypatch.setitem(sys.modules, absent, None)  # as if not installed
    write_video(real_video(tmp_path), [90, 120], size=(96, 64))
    assert cli.main(["prepare", "ffpp", str(tmp_path), "--profile", "deepfakebench", "--workers", "1"]) == 2
    assert needs in capsys.readouterr().err
    assert not (tmp_path / "original_sequences" / "youtube" / "c23" / "frames").exists()
