"""`lssat predict` on inputs as they come: a bad file costs only itself (its status, exit 1), the
old outputs stay until the new ones are complete, usage errors exit 2, and the faces come from
whichever face reader is registered."""

import os

import numpy as np
import pytest

from lssat_framework import cli, hookimpl
from lssat_framework.interfaces import FaceCrop, FaceFile, FaceReader
from lssat_framework.plugins import reset_plugin_manager
from conftest import shipped_plugin_manager
from predict_media import make_video, read_csv, save_photo, train_run


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    return train_run(tmp_path_factory.mktemp("predict-inputs"))


def bad_inputs_folder(folder):
    """A good video, a corrupt one, a photo without a face, and a corrupt video whose name is not UTF-8."""
    folder.mkdir()
    make_video(folder / "good.mp4", frames=20)
    (folder / "corrupt.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + os.urandom(2000))
    save_photo(folder / "coffee.png", "coffee")
    (folder / os.fsdecode(b"caf\xe9.mp4")).write_bytes((folder / "good.mp4").read_bytes()[:300])
    return folder


def test_a_bad_input_costs_only_itself_and_the_old_outputs_stay_until_the_new_are_whole(run, tmp_path, monkeypatch, capsys):
    from lssat_framework.predict import job

    folder = bad_inputs_folder(tmp_path / "inputs")
    out = tmp_path / "out"
    out.mkdir()
    (out / "predictions.csv").write_text("old\n")
    seen = []
    answer_file = job.answer_file

    def watched(*args, **kwargs):  # while inputs are being answered, the old file is as it was
        seen.append((out / "predictions.csv").read_text())
        return answer_file(*args, **kwargs)

    monkeypatch.setattr(job, "answer_file", watched)
    assert cli.main(["predict", str(run), str(folder), "--out", str(out)]) == 1
    assert seen == ["old\n"] * 4
    rows = {row["path"].rsplit("/", 1)[-1]: row for row in read_csv(out / "predictions.csv")}
    assert {name: row["status"].split(":")[0] for name, row in rows.items()} == {
        "good.mp4": "scored", "corrupt.mp4": "unreadable", "coffee.png": "no_face", "caf\\xe9.mp4": "unreadable"}
    assert [name for name, row in rows.items() if row["p_fake"]] == ["good.mp4"]
    assert "cannot decode video" in rows["corrupt.mp4"]["status"]
    assert capsys.readouterr().out.strip().splitlines()[-1].startswith("1 of 4 inputs scored")
    assert sorted(p.name for p in out.iterdir()) == ["frames.csv", "good.png", "predictions.csv"]  # no temporary file left


def test_a_failure_before_the_end_leaves_the_old_outputs(run, tmp_path, monkeypatch):
    from lssat_framework.predict import job

    out = tmp_path / "out"
    out.mkdir()
    (out / "predictions.csv").write_text("old\n")
    monkeypatch.setattr(job, "video_picture", lambda *a, **k: (_ for _ in ()).throw(KeyboardInterrupt()))
    assert cli.main(["predict", str(run), str(make_video(tmp_path / "v.mp4", frames=10)), "--out", str(out)]) not in (0, 1)  # Ctrl-C while drawing
    assert (out / "predictions.csv").read_text() == "old\n" and sorted(p.name for p in out.iterdir()) == ["predictions.csv"]


@pytest.mark.parametrize("arguments", [["RUN"], ["RUN", "missing.mp4"], ["RUN", "clip.mp4", "--frames", "0"], ["RUN", "clip.mp4", "--profile", "nope"],
                                       ["RUN", "clip.mp4", "--detector", "nope"]])
def test_usage_errors_exit_2_with_one_line(run, tmp_path, arguments, capsys):
    (tmp_path / "clip.mp4").write_bytes(b"")
    given = [str(run) if a == "RUN" else str(tmp_path / a) if a.endswith(".mp4") else a for a in arguments]
    assert cli.main(["predict", *given, "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "lssat: error:" in err


class FixedFaces(FaceReader):
    """A reader of another plugin: every file is three grey faces."""

    suffixes = frozenset({".txt"})

    def settings(self, recorded, overrides):
        return {"size": 48}

    def read(self, path, settings, all_faces=False):
        crops = (FaceCrop(np.full((settings["size"],) * 2 + (3,), 128, np.uint8), i, i / 10, (0, 0, 8, 8)) for i in range(3))
        return FaceFile("video", crops, 3)


class ReaderPlugin:
    @hookimpl
    def register_face_readers(self, register):
        register("fixed-faces", FixedFaces, None, "three grey faces")


def test_faces_come_from_the_registered_reader_named_by_reader(run, tmp_path, capsys):
    manager = shipped_plugin_manager()
    manager.add_plugin(ReaderPlugin(), name="reader-plugin")
    reset_plugin_manager(manager)
    (tmp_path / "a.txt").write_text("x")
    assert cli.main(["predict", str(run), str(tmp_path / "a.txt"), "--out", str(tmp_path / "out")]) == 2
    assert "several face readers are installed: fixed-faces, prepared-faces" in capsys.readouterr().err
    assert cli.main(["predict", str(run), str(tmp_path), "--out", str(tmp_path / "out"), "--reader", "fixed-faces"]) == 0
    frames = read_csv(tmp_path / "out" / "frames.csv")
    assert [r["frame"] for r in frames] == ["0", "1", "2"] and len({r["p_fake"] for r in frames}) == 1
