"""The deepfake test sets in their official layouts, built in miniature with real photos: Celeb-DF
v2, DFDC, DFD, DeepfakeBench's dataset JSON; AffectNet as its archives unpack. Every frame knows
its video, and the method where the dataset has one."""

import json

import numpy as np
import pytest
from PIL import Image

import lssat_framework as lssat
from lssat_framework import cli
from lssat_framework.errors import DataError

REAL_PHOTO, FAKE_PHOTO = "astronaut", "chelsea"  # a face; a cat stands in for a fake


def photo(name, size=24):
    from skimage import data

    return np.asarray(Image.fromarray(getattr(data, name)()).resize((size, size)))


def frames(folder, count=3, name=REAL_PHOTO):
    folder.mkdir(parents=True, exist_ok=True)
    for index in range(count):
        Image.fromarray(photo(name)).save(folder / f"{index:03d}.png")
    return folder


def labels_of(split):
    return [int(split[i]["labels"]["fake"]) for i in range(len(split))]


def videos_of(split):
    return [int(split[i]["video"]) for i in range(len(split))]


# ------------------------------------------------------------------ Celeb-DF v2
def celebdf_tree(root):
    for folder, video, name in [("Celeb-real", "id0_0000", REAL_PHOTO), ("YouTube-real", "00000", REAL_PHOTO),
                                ("Celeb-synthesis", "id0_id1_0000", FAKE_PHOTO), ("Celeb-real", "id1_0001", REAL_PHOTO),
                                ("Celeb-synthesis", "id1_id0_0001", FAKE_PHOTO)]:
        frames(root / folder / "frames" / video, name=name)
    (root / "List_of_testing_videos.txt").write_text(
        "1 Celeb-real/id0_0000.mp4\n1 YouTube-real/00000.mp4\n0 Celeb-synthesis/id0_id1_0000.mp4\n"
    )
    return root


def test_celebdf_test_list_train_rest_and_video_ids(tmp_path):
    source = lssat.create("dataset", "celebdf", root=str(celebdf_tree(tmp_path / "Celeb-DF-v2")), frames_per_video=2, image_size=16)
    test = source.split("test")
    assert labels_of(test) == [0, 0, 0, 0, 1, 1]  # the list says 1 for real
    ids = videos_of(test)
    assert ids[0::2] == ids[1::2] and len(set(ids)) == 3  # two frames of each of three videos
    train = source.split("train")
    assert labels_of(train) == [0, 0, 1, 1] and not set(videos_of(train)) & set(ids)  # the videos the test list does not name
    assert len(source.split("val")) == len(test) and source.info.videos and "method" not in source.info.labels


def test_celebdf_errors_name_the_expected_paths(tmp_path):
    root = celebdf_tree(tmp_path / "Celeb-DF-v2")
    (root / "List_of_testing_videos.txt").write_text("1 Celeb-real/id9_0009.mp4\n")
    source = lssat.create("dataset", "celebdf", root=str(root), image_size=16)
    with pytest.raises(DataError, match=r"1 videos of the test split have no extracted frames, e.g. the folder .*Celeb-real/frames/id9_0009; run `lssat prepare celebdf"):
        source.split("test")
    assert len(source.split("train")) > 0  # the other split still reads
    (root / "List_of_testing_videos.txt").unlink()
    with pytest.raises(DataError, match=r"expected the test list .*List_of_testing_videos.txt"):
        lssat.create("dataset", "celebdf", root=str(root))
    (root / "List_of_testing_videos.txt").write_text("real Celeb-real/id0_0000.mp4\n")
    with pytest.raises(DataError, match=r"List_of_testing_videos.txt:1: expected '<1 real\|0 fake> <folder>/<file>.mp4'"):
        lssat.create("dataset", "celebdf", root=str(root))


# ------------------------------------------------------------------------ DFDC
def dfdc_tree(root):
    part = root / "train" / "dfdc_train_part_0"
    part.mkdir(parents=True)
    metadata = {"aaa.mp4": {"label": "REAL", "split": "train"}, "bbb.mp4": {"label": "FAKE", "split": "train", "original": "aaa.mp4"}}
    (part / "metadata.json").write_text(json.dumps(metadata))
    frames(part / "frames" / "aaa")
    frames(part / "frames" / "bbb", name=FAKE_PHOTO)
    (root / "test" / "videos").mkdir(parents=True)
    (root / "test" / "labels.csv").write_text("filename,label\nccc.mp4,1\nddd.mp4,0\n")
    frames(root / "test" / "frames" / "ccc", name=FAKE_PHOTO)  # where DeepfakeBench puts them
    frames(root / "test" / "images" / "ddd")  # where lssat prepare dfdc puts them
    return root


def test_dfdc_training_parts_and_the_public_test_set(tmp_path):
    source = lssat.create("dataset", "dfdc", root=str(dfdc_tree(tmp_path / "DFDC")), frames_per_video=2, image_size=16)
    assert source.splits == ("train", "val", "test")
    assert labels_of(source.split("train")) == [0, 0, 1, 1]
    assert labels_of(source.split("test")) == [1, 1, 0, 0] and videos_of(source.split("test")) == [2, 2, 3, 3]


def test_dfdc_errors_name_the_expected_paths(tmp_path):
    root = dfdc_tree(tmp_path / "DFDC")
    (root / "train" / "dfdc_train_part_0" / "metadata.json").unlink()
    with pytest.raises(DataError, match=r"expected .*dfdc_train_part_0/metadata.json"):
        lssat.create("dataset", "dfdc", root=str(root))
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match=r"expected training parts .*dfdc_train_part_<k>.*or the public test set's .*test/labels.csv"):
        lssat.create("dataset", "dfdc", root=str(tmp_path / "empty"))


# ------------------------------------------------------------------------- DFD
def test_dfd_reads_the_actors_and_their_fakes_with_the_method(tmp_path):
    root = tmp_path / "FaceForensics++"
    frames(root / "original_sequences" / "actors" / "c23" / "images" / "01__talking")
    frames(root / "manipulated_sequences" / "DeepFakeDetection" / "c23" / "images" / "01_02__talking__ABC", name=FAKE_PHOTO)
    (root / "manipulated_sequences" / "DeepFakeDetection" / "c23" / "videos").mkdir(parents=True)
    (root / "manipulated_sequences" / "DeepFakeDetection" / "c23" / "videos" / "01_03__walking__XYZ.mp4").write_bytes(b"")
    source = lssat.create("dataset", "dfd", root=str(root), frames_per_video=2, image_size=16)
    assert source.splits == ("test",) and source.info.groups == {"method": ["real", "DeepFakeDetection"]}
    with pytest.raises(DataError, match=r"no extracted frames, e.g. the folder .*DeepFakeDetection/c23/images/01_03__walking__XYZ; run `lssat prepare dfd"):
        source.split("test")
    (root / "manipulated_sequences" / "DeepFakeDetection" / "c23" / "videos" / "01_03__walking__XYZ.mp4").unlink()
    test = lssat.create("dataset", "dfd", root=str(root), frames_per_video=2, image_size=16).split("test")
    assert labels_of(test) == [0, 0, 1, 1] and [int(test[i]["groups"]["method"]) for i in range(4)] == [0, 0, 1, 1]
    with pytest.raises(DataError, match=r"expected the folder .*original_sequences/actors/c40"):
        lssat.create("dataset", "dfd", root=str(root), compression="c40")


def test_ffpp_frames_carry_their_method_as_a_group(tmp_path):
    """Issue 12: the per-method AUC reads the method from the items' groups."""
    root = tmp_path / "ffpp"
    (root / "train.json").parent.mkdir(parents=True)
    for split in ("train", "val", "test"):
        (root / f"{split}.json").write_text(json.dumps([["000", "001"]]))
    for video in ("000", "001"):
        frames(root / "original_sequences" / "youtube" / "c23" / "images" / video, count=1)
    for method in ("Deepfakes", "FaceSwap"):
        for video in ("000_001", "001_000"):
            frames(root / "manipulated_sequences" / method / "c23" / "images" / video, count=1, name=FAKE_PHOTO)
    source = lssat.create("dataset", "ffpp", root=str(root), methods=["Deepfakes", "FaceSwap"], image_size=16)
    train = source.split("train")
    assert [int(train[i]["groups"]["method"]) for i in range(len(train))] == [0, 0, 1, 1, 2, 2]
    assert source.info.groups["method"] == ["real", "Deepfakes", "FaceSwap"]


# ------------------------------------------------------------ DeepfakeBench JSON
def deepfakebench_ffpp(rgb):
    """DeepfakeBench's FF-DF.json: a compression level, Windows separators, paths under rgb_dir."""
    def video(label, kind, name, photo_name):
        folder = frames(rgb / "FaceForensics++" / kind / "c23" / "frames" / name, 2, photo_name)
        return {"label": label, "frames": [str(p.relative_to(rgb)).replace("/", "\\") for p in sorted(folder.iterdir())]}

    real = {"train": {"c23": {"000": video("FF-real", "original_sequences/youtube", "000", REAL_PHOTO)}}, "test": {"c23": {"001": video("FF-real", "original_sequences/youtube", "001", REAL_PHOTO)}}}
    fake = {"train": {"c23": {"000_001": video("FF-DF", "manipulated_sequences/Deepfakes", "000_001", FAKE_PHOTO)}}, "test": {"c23": {}}}
    return {"FF-DF": {"FF-real": real, "FF-DF": fake}}


def test_deepfakebench_json_reads_frames_a_user_already_extracted(tmp_path):
    rgb = tmp_path / "rgb"
    path = tmp_path / "dataset_json" / "FF-DF.json"
    path.parent.mkdir()
    path.write_text(json.dumps(deepfakebench_ffpp(rgb)))
    source = lssat.create("dataset", "deepfakebench", json_file=str(path), root=str(rgb), image_size=16)
    assert source.splits == ("train", "test")
    train = source.split("train")
    assert labels_of(train) == [0, 0, 1, 1] and videos_of(train) == [0, 0, 1, 1]
    assert source.info.groups["method"] == ["real", "FF-DF"] and int(train[2]["groups"]["method"]) == 1
    assert labels_of(source.split("test")) == [0, 0]
    with pytest.raises(DataError, match=r"the frame .*FaceForensics\+\+/original_sequences/youtube/c23/frames/000/000.png of FF-real/000 does not exist; set data.params.root"):
        lssat.create("dataset", "deepfakebench", json_file=str(path))  # relative to the JSON's folder: not there
    with pytest.raises(DataError, match=r"compression levels \['c23'\], not data.params.compression c40"):
        lssat.create("dataset", "deepfakebench", json_file=str(path), root=str(rgb), compression="c40")


def test_deepfakebench_json_without_compression_and_with_absolute_paths(tmp_path):
    real = frames(tmp_path / "Celeb-DF-v2" / "Celeb-real" / "frames" / "id0_0000")
    fake = frames(tmp_path / "Celeb-DF-v2" / "Celeb-synthesis" / "frames" / "id0_id1_0000", name=FAKE_PHOTO)

    def listed(label, folder):
        return {"label": label, "frames": [str(p) for p in sorted(folder.iterdir())]}

    data = {"Celeb-DF-v2": {
        "CelebDFv2_real": {"train": {}, "test": {"id0_0000": listed("CelebDFv2_real", real)}},
        "CelebDFv2_fake": {"train": {}, "test": {"id0_id1_0000": listed("CelebDFv2_fake", fake)}},
    }}
    path = tmp_path / "Celeb-DF-v2.json"
    path.write_text(json.dumps(data))
    test = lssat.create("dataset", "deepfakebench", json_file=str(path), frames_per_video=2, image_size=16).split("test")
    assert labels_of(test) == [0, 0, 1, 1]
    with pytest.raises(DataError, match=r"data.params.dataset must name one of its datasets \['Celeb-DF-v2'\]"):
        lssat.create("dataset", "deepfakebench", json_file=str(path), dataset="Celeb-DF-v1")


# ------------------------------------------------------------------ AffectNet
AFFECTNET_HEADER = "subDirectory_filePath,face_x,face_y,face_width,face_height,facial_landmarks,expression,valence,arousal"


def test_affectnet_lists_as_the_archive_unpacks_them(tmp_path):
    """Issue 12: the lists unpack into Manually_Annotated_file_lists/; the loader looked for
    training.csv at the root only and stopped."""
    root = tmp_path / "AffectNet"
    for name in ("1/a.jpg", "1/b.jpg"):
        path = root / "Manually_Annotated" / "Manually_Annotated_Images" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(photo(REAL_PHOTO, 64)).save(path)
    lists = root / "Manually_Annotated_file_lists"
    lists.mkdir()
    (lists / "training.csv").write_text(f"{AFFECTNET_HEADER}\n1/a.jpg,8,8,48,48,\"1;2\",1,0.1,0.2\n1/b.jpg,8,8,48,48,\"1;2\",9,0.1,0.2\n")
    (lists / "validation.csv").write_text(f"{AFFECTNET_HEADER}\n1/b.jpg,8,8,48,48,\"1;2\",3,0.1,0.2\n")
    source = lssat.create("dataset", "affectnet", root=str(root), image_size=16)
    assert [int(source.split("train")[0]["labels"]["expression"]), len(source.split("train"))] == [1, 1]
    assert int(source.split("test")[0]["labels"]["expression"]) == 3


def test_affectnet_release_with_train_set_and_val_set(tmp_path):
    """Issue 12: the later release's train_set/val_set with annotations/<id>_exp.npy."""
    root = tmp_path / "AffectNet"
    for split, codes in (("train_set", {"0": 1, "1": 7, "2": 4}), ("val_set", {"5": 6})):
        (root / split / "images").mkdir(parents=True)
        (root / split / "annotations").mkdir()
        for image_id, code in codes.items():
            Image.fromarray(photo(REAL_PHOTO, 32)).save(root / split / "images" / f"{image_id}.jpg")
            np.save(root / split / "annotations" / f"{image_id}_exp.npy", np.array(str(code)))
            np.save(root / split / "annotations" / f"{image_id}_val.npy", np.array("0.5"))
    source = lssat.create("dataset", "affectnet", root=str(root), classes=7, image_size=16)
    assert sorted(int(source.split("train")[i]["labels"]["expression"]) for i in range(2)) == [1, 4]  # contempt left out
    assert len(source.split("train")) == 2 and int(source.split("val")[0]["labels"]["expression"]) == 6
    (root / "val_set" / "images" / "5.jpg").unlink()
    with pytest.raises(DataError, match=r"5_exp.npy has no image; expected .*val_set/images/5.jpg"):
        lssat.create("dataset", "affectnet", root=str(root))


# ------------------------------------------------------------ prepare, then read
def test_prepare_celebdf_test_only_then_read_its_test_split(tmp_path, capsys):
    from test_prepare import face_video

    root = tmp_path / "Celeb-DF-v2"
    face_video(root / "Celeb-real" / "id0_0000.mp4", count=2)
    face_video(root / "Celeb-synthesis" / "id0_id1_0000.mp4", count=2)
    face_video(root / "Celeb-synthesis" / "id1_id0_0000.mp4", count=2)  # not in the test list
    (root / "List_of_testing_videos.txt").write_text("1 Celeb-real/id0_0000.mp4\n0 Celeb-synthesis/id0_id1_0000.mp4\n")
    assert cli.main(["prepare", "celebdf", str(root), "--test-only", "--frames", "2", "--size", "16", "--workers", "1"]) == 0
    assert "2 videos extracted" in capsys.readouterr().out
    assert not (root / "Celeb-synthesis" / "frames" / "id1_id0_0000").exists()
    test = lssat.create("dataset", "celebdf", root=str(root), image_size=16).split("test")
    assert labels_of(test) == [0, 0, 1, 1]
