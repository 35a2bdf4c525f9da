"""Issue 22 for the video datasets: the rows of the Celeb-DF test list, DFDC's metadata and
labels, FF++'s split lists and DeepfakeBench's JSON are one error naming the file and line (or
JSON key path), or skipped and counted; a path read from a list never leads outside the
dataset's folder, and `lssat prepare` never writes outside it."""

import json

import pytest

import lssat_framework as lssat
from lssat_framework.errors import DataError

from image_files import write_image


# ------------------------------------------------------------------ Celeb-DF v2
def test_a_celebdf_test_list_path_that_leaves_the_root_is_a_bad_row(tmp_path):
    """`Celeb-real/../../outside/videos/x.mp4` passed: only its first folder was compared."""
    root = tmp_path / "Celeb-DF-v2"
    write_image(root / "Celeb-real" / "frames" / "id0_0000" / "000.png")
    listed = "1 Celeb-real/id0_0000.mp4\n1 Celeb-real/../../outside/videos/x.mp4\n0 Celeb-real/../x.mp4\n"
    (root / "List_of_testing_videos.txt").write_text(listed)
    with pytest.raises(DataError, match=r"List_of_testing_videos.txt:2: the video path 'Celeb-real/../../outside/videos/x.mp4' leads outside"):
        lssat.create("dataset", "celebdf", root=str(root), image_size=16)
    source = lssat.create("dataset", "celebdf", root=str(root), image_size=16, on_bad_row="skip")
    assert [entry.split(": ")[0] for entry in source.info.skipped_rows] == [f"{root / 'List_of_testing_videos.txt'}:{n}" for n in (2, 3)]
    assert "leads out of the folders" in source.info.skipped_rows[1]
    assert len(source.split("test")) == 1


def test_prepare_never_writes_or_clears_frames_outside_the_root(tmp_path, capsys):
    """`lssat prepare celebdf --test-only` extracted the escaping line's video into
    ROOT/../outside/images/x, clearing the *.png there."""
    from face_videos import face_video

    from lssat_framework import cli

    root = tmp_path / "Celeb-DF-v2"
    face_video(root / "Celeb-real" / "id0_0000.mp4", count=2)
    face_video(tmp_path / "outside" / "videos" / "x.mp4", count=2)
    keep = write_image(tmp_path / "outside" / "images" / "x" / "keep.png")
    (root / "List_of_testing_videos.txt").write_text("1 Celeb-real/id0_0000.mp4\n1 Celeb-real/../../outside/videos/x.mp4\n")
    args = ["prepare", "celebdf", str(root), "--test-only", "--frames", "2", "--size", "16", "--workers", "1"]
    assert cli.main(args) == 2
    assert "List_of_testing_videos.txt:2: the video path 'Celeb-real/../../outside/videos/x.mp4' leads outside" in capsys.readouterr().err
    assert keep.is_file() and sorted(p.name for p in keep.parent.iterdir()) == ["keep.png"]


def test_prepare_refuses_a_frame_folder_outside_the_root_before_writing(tmp_path):
    from lssat_datasets.extract import Settings
    from lssat_datasets.faces import LbpCascade
    from lssat_datasets.prepare import prepare

    from lssat_framework.files.safe import UnsafePathError

    (tmp_path / "root").mkdir()
    video = tmp_path / "outside" / "videos" / "x.mp4"
    video.parent.mkdir(parents=True)
    video.write_bytes(b"")
    with pytest.raises(UnsafePathError, match=r"refusing to write the frames of .*x.mp4 to .*outside/images/x, which is not inside"):
        prepare("celebdf", tmp_path / "root", [video], Settings(2, 16, LbpCascade), workers=1)
    assert not (tmp_path / "outside" / "images").exists()


# ------------------------------------------------------------------ DFDC
def dfdc(root, metadata, labels):
    part = root / "dfdc_train_part_0"
    part.mkdir(parents=True)
    (part / "metadata.json").write_text(json.dumps(metadata))
    write_image(part / "frames" / "aaa" / "000.png")
    (root / "test" / "videos").mkdir(parents=True)
    (root / "test" / "labels.csv").write_text(labels)
    write_image(root / "test" / "images" / "ccc" / "000.png")
    return root


@pytest.mark.parametrize("metadata,labels,message", [
    ({"aaa.mp4": {"label": "REAL"}, "bbb.mp4": {"label": "real"}}, "filename,label\nccc.mp4,1\n",
     r"metadata.json at \[\"bbb.mp4\"\]: the label 'real' is not one of \['REAL', 'FAKE'\]"),
    ({"aaa.mp4": {"label": "REAL"}, "bbb.mp4": ["FAKE"]}, "filename,label\nccc.mp4,1\n",
     r"metadata.json at \[\"bbb.mp4\"\]: expected \{\"label\": \"REAL\"\|\"FAKE\", ...\}, got \['FAKE'\]"),
    ({"aaa.mp4": {"label": "REAL"}, "../../x.mp4": {"label": "FAKE"}}, "filename,label\nccc.mp4,1\n",
     r"metadata.json at \[\"../../x.mp4\"\]: the video name '../../x.mp4' leads outside"),
    ({"aaa.mp4": {"label": "REAL"}}, "filename,label\nccc.mp4,1\nddd.mp4\n", r"labels.csv:3: 1 fields where the header has 2: no value for 'label'"),
    ({"aaa.mp4": {"label": "REAL"}}, "filename,label\nccc.mp4,1\n../../../x.mp4,0\n", r"labels.csv:3: the filename '../../../x.mp4' leads outside"),
])
def test_dfdc_bad_entries_name_their_key_or_line(tmp_path, metadata, labels, message):
    """A bad label in metadata.json was one error for the whole file; a short labels.csv row a TypeError."""
    root = dfdc(tmp_path / "DFDC", metadata, labels)
    with pytest.raises(DataError, match=message):
        lssat.create("dataset", "dfdc", root=str(root), image_size=16)
    source = lssat.create("dataset", "dfdc", root=str(root), image_size=16, on_bad_row="skip")
    assert len(source.info.skipped_rows) == 1 and len(source.split("train")) == 1 and len(source.split("test")) == 1


# ------------------------------------------------------------------ FaceForensics++
@pytest.mark.parametrize("pair,message", [
    (["../000", "001"], r"'../000' of \['../000', '001'\] is not a video name"),
    (["000"], r"expected a pair of video names \[a, b\], got \['000'\]"),
    ("000_001", r"expected a pair of video names \[a, b\], got '000_001'"),
])
def test_ffpp_split_list_entries_are_pairs_of_names(tmp_path, pair, message):
    root = tmp_path / "ffpp"
    for video in ("000", "001"):
        write_image(root / "original_sequences" / "youtube" / "c23" / "images" / video / "000.png")
    for video in ("000_001", "001_000"):
        write_image(root / "manipulated_sequences" / "Deepfakes" / "c23" / "images" / video / "000.png")
    for split in ("train", "val", "test"):
        (root / f"{split}.json").write_text(json.dumps([["000", "001"]] + ([pair] if split == "val" else [])))
    with pytest.raises(DataError, match=r"val.json at \[1\]: " + message):
        lssat.create("dataset", "ffpp", root=str(root), methods=["Deepfakes"], image_size=16)
    source = lssat.create("dataset", "ffpp", root=str(root), methods=["Deepfakes"], image_size=16, on_bad_row="skip")
    assert len(source.info.skipped_rows) == 1 and len(source.split("val")) == 4


# ------------------------------------------------------------------ DeepfakeBench JSON
def deepfakebench(tmp_path, videos=None, block=None):
    rgb = tmp_path / "rgb"
    write_image(rgb / "real" / "000" / "f0.png")
    write_image(tmp_path / "outside.png")
    good = {"000": {"label": "X_real", "frames": ["real/000/f0.png"]}}
    labels = {"X_real": {"test": {**good, **(videos or {})}}} if block is None else block
    path = rgb / "X.json"
    path.write_text(json.dumps({"X": labels}))
    return path


@pytest.mark.parametrize("videos,message", [
    ({"001": {"label": "X_real", "frames": "f0.png"}}, r'\["frames"\] should be a list of frame paths, got \'f0.png\''),
    ({"001": {"label": ["X_real"], "frames": []}}, r'\["label"\] should be a label name, got \[\'X_real\'\]'),
    ({"001": ["real/000/f0.png"]}, r'expected \{"label": ..., "frames": \[...\]\}, got a JSON list'),
    ({"001": {"label": "X_real", "frames": ["../outside.png"]}}, r"the frame path \[\"frames\"\]\[0\] '../outside.png' leads outside .*rgb; data.params.root is"),
    ({"001": {"label": "X_real", "frames": ["real/000/f0.png", 7]}}, r"the frame path \[\"frames\"\]\[1\] should be a string, got 7"),
])
def test_deepfakebench_video_entries_are_checked_and_named_by_key_path(tmp_path, videos, message):
    """A string of frames was read letter by letter; a list label or entry raised AttributeError."""
    path = deepfakebench(tmp_path, videos)
    with pytest.raises(DataError, match=r'X.json at \["X"\]\["X_real"\]\["test"\]\["001"\]: ' + message):
        lssat.create("dataset", "deepfakebench", json_file=str(path), image_size=16)
    source = lssat.create("dataset", "deepfakebench", json_file=str(path), image_size=16, on_bad_row="skip")
    assert len(source.info.skipped_rows) == 1 and len(source.split("test")) == 1


def test_deepfakebench_absolute_frame_paths_must_lie_under_the_root(tmp_path):
    inner, outside = str(tmp_path / "rgb" / "real" / "000" / "f0.png"), str(tmp_path / "outside.png")
    path = deepfakebench(tmp_path, block={"X_real": {"test": {"000": {"frames": [inner]}, "001": {"frames": [outside]}}}})
    with pytest.raises(DataError, match=r"the frame path .*outside.png' leads outside"):
        lssat.create("dataset", "deepfakebench", json_file=str(path), image_size=16)
    source = lssat.create("dataset", "deepfakebench", json_file=str(path), root=str(tmp_path), image_size=16)  # a root above both
    assert len(source.split("test")) == 2


@pytest.mark.parametrize("block,message", [
    ({"X_real": ["real/000/f0.png"]}, r'X.json at \["X"\]\["X_real"\]: expected an object \{train\|val\|test: .*, got a JSON list'),
    ({"X_real": {"test": ["000"]}}, r'X.json at \["X"\]\["X_real"\]\["test"\]: expected an object mapping video names'),
])
def test_deepfakebench_json_of_the_wrong_shape_names_the_key_path(tmp_path, block, message):
    path = deepfakebench(tmp_path, block=block)
    for on_bad_row in ("error", "skip"):  # above the videos: no row to skip
        with pytest.raises(DataError, match=message):
            lssat.create("dataset", "deepfakebench", json_file=str(path), on_bad_row=on_bad_row)


def test_deepfakebench_dataset_that_is_a_list_names_its_key(tmp_path):
    path = tmp_path / "X.json"
    path.write_text(json.dumps({"X": [{"X_real": {}}]}))
    with pytest.raises(DataError, match=r'X.json at \["X"\]: expected an object \{label: .*, got a JSON list'):
        lssat.create("dataset", "deepfakebench", json_file=str(path))
    path.write_text('{"X": {"X_real": {"test": {}}},\n}')
    with pytest.raises(DataError, match=r"X.json:2: not JSON"):
        lssat.create("dataset", "deepfakebench", json_file=str(path))
