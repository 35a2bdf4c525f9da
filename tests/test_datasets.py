"""The users' datasets in their official layouts (CelebA, AffectNet, FaceForensics++), built in
miniature and read back with the right labels and splits."""

import json

import pytest

import lssat_framework as lssat
from lssat_framework.errors import DataError
from lssat_framework.images import as_unit_float

from image_files import write_image


# --------------------------------------------------------------------- CelebA
ATTRS = ["5_o_Clock_Shadow", "Male", "Smiling"]
VALUES = {"000001.jpg": [-1, 1, -1], "000002.jpg": [1, 1, 1], "000003.jpg": [-1, -1, 1], "000004.jpg": [-1, -1, -1], "000005.jpg": [1, 1, -1], "000006.jpg": [-1, -1, 1]}
PARTITION = {"000001.jpg": 0, "000002.jpg": 0, "000003.jpg": 1, "000004.jpg": 1, "000005.jpg": 2, "000006.jpg": 2}


def celeba_txt(root):
    for name in VALUES:
        write_image(root / "img_align_celeba" / name, size=(178, 218))
    lines = [str(len(VALUES)), " ".join(ATTRS)] + [f"{name}  " + "  ".join(f"{v:2d}" for v in values) for name, values in VALUES.items()]
    (root / "list_attr_celeba.txt").write_text("\n".join(lines) + "\n")
    (root / "list_eval_partition.txt").write_text("".join(f"{n} {s}\n" for n, s in PARTITION.items()))
    return root


def celeba_csv(root):
    for name in VALUES:
        write_image(root / "img_align_celeba" / "img_align_celeba" / name, size=(178, 218))
    rows = ["image_id," + ",".join(ATTRS)] + [f"{n}," + ",".join(str(v) for v in values) for n, values in VALUES.items()]
    (root / "list_attr_celeba.csv").write_text("\n".join(rows) + "\n")
    (root / "list_eval_partition.csv").write_text("image_id,partition\n" + "".join(f"{n},{s}\n" for n, s in PARTITION.items()))
    return root


@pytest.mark.parametrize("layout", [celeba_txt, celeba_csv], ids=["txt", "csv"])
def test_celeba_layouts_read_back_with_labels_splits_and_groups(tmp_path, layout):
    root = layout(tmp_path / "celeba")
    source = lssat.create("dataset", "celeba", root=str(root), image_size=32, attributes=["Smiling", "5_o_Clock_Shadow"], groups=["Male"])
    assert source.info.labels["attributes"].names == ["Smiling", "5_o_Clock_Shadow"]
    assert source.info.labels["attributes"].positive_rate == [0.5, 0.5]  # train: 000001, 000002
    assert [len(source.split(s)) for s in ("train", "val", "test")] == [2, 2, 2]
    item = source.split("train")[1]  # 000002.jpg: 5_o_Clock_Shadow 1, Male 1, Smiling 1
    assert item["labels"]["attributes"].tolist() == [1.0, 1.0]
    assert item["groups"]["Male"].item() == 1
    assert item["image"].shape == (3, 32, 32)
    assert source.split("val")[0]["labels"]["attributes"].tolist() == [1.0, 0.0]  # 000003.jpg


def test_celeba_errors_name_the_expected_files(tmp_path):
    with pytest.raises(DataError, match="expected the folder .*missing"):
        lssat.create("dataset", "celeba", root=str(tmp_path / "missing"))
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "README").write_text("x")
    with pytest.raises(DataError, match=r"list_attr_celeba.txt .or list_attr_celeba.csv.; .* holds: README"):
        lssat.create("dataset", "celeba", root=str(tmp_path / "empty"))
    root = celeba_txt(tmp_path / "celeba")
    with pytest.raises(DataError, match="unknown attributes \\['Wavy'\\]"):
        lssat.create("dataset", "celeba", root=str(root), attributes=["Wavy"])


def test_celeba_rows_without_an_image_are_counted_and_an_empty_split_is_an_error(tmp_path, capsys):
    """Issue 16 item 7: rows whose image is missing were dropped without a word, leaving an empty
    split that trained nothing; now a warning counts them and the empty split is an error."""
    root = celeba_txt(tmp_path / "celeba")
    for name in ("000003.jpg", "000004.jpg"):  # the whole val split
        (root / "img_align_celeba" / name).unlink()
    source = lssat.create("dataset", "celeba", root=str(root), image_size=16)
    err = capsys.readouterr().err
    assert "2 listed images are not in" in err and "'000003.jpg'" in err and str(root / "img_align_celeba") in err
    assert len(source.split("train")) == 2
    with pytest.raises(DataError, match=r"the val split is empty: none of its 2 images is in .*img_align_celeba .e\.g\. '000003\.jpg'"):
        source.split("val")


def test_celeba_rows_without_a_split_are_counted_and_a_split_with_no_rows_is_an_error(tmp_path, capsys):
    """Issue 16 item 7: rows the partition file does not name (e.g. written with other file
    names) were dropped without a word; now counted in a warning, and the empty split is an error."""
    root = celeba_txt(tmp_path / "celeba")
    partition = {name.replace(".jpg", ".png") if code == 1 else name: code for name, code in PARTITION.items()}
    (root / "list_eval_partition.txt").write_text("".join(f"{n} {s}\n" for n, s in partition.items()))
    source = lssat.create("dataset", "celeba", root=str(root), image_size=16)
    assert "2 of 6 attribute rows have no split 0, 1 or 2 in" in capsys.readouterr().err
    with pytest.raises(DataError, match=r"the val split is empty: .*list_eval_partition.txt assigns no image to it .*'000003.jpg'"):
        source.split("val")


# ------------------------------------------------------------------ AffectNet
def affectnet_csv(root):
    header = "subDirectory_filePath,face_x,face_y,face_width,face_height,facial_landmarks,expression,valence,arousal"
    rows = [("1/a.jpg", 0), ("1/b.jpg", 3), ("2/c.jpg", 7), ("2/d.jpg", 8), ("2/e.jpg", 10)]
    for name, _ in rows:
        write_image(root / "Manually_Annotated_Images" / name, size=(40, 40), color=(0, 0, 255), box=(10, 8, 20, 20), box_color=(255, 0, 0))
    lines = [header] + [f"{n},10,8,20,20,\"1;2\",{e},0.1,0.2" for n, e in rows]
    (root / "training.csv").write_text("\n".join(lines) + "\n")
    (root / "validation.csv").write_text("\n".join([header, lines[2]]) + "\n")
    return root


@pytest.mark.parametrize("classes,expected", [(7, [0, 3]), (8, [0, 3, 7])])
def test_affectnet_keeps_the_asked_classes_and_crops_the_face(tmp_path, classes, expected):
    source = lssat.create("dataset", "affectnet", root=str(affectnet_csv(tmp_path / "affectnet")), classes=classes, image_size=16)
    train = source.split("train")
    assert [int(train[i]["labels"]["expression"]) for i in range(len(train))] == expected
    assert len(source.info.labels["expression"].names) == classes
    image = as_unit_float(train[0]["image"])
    assert image[0].mean() > 0.8 and image[2].mean() < 0.2  # the red face box, not the blue frame (JPEG-blurred edges)


def test_affectnet_class_folders_by_code_or_name(tmp_path):
    root = tmp_path / "affectnet"
    write_image(root / "train" / "happy" / "x.jpg")
    write_image(root / "train" / "0" / "y.jpg")
    write_image(root / "train" / "Contempt" / "z.jpg")
    write_image(root / "validation" / "Sad" / "w.jpg")
    source = lssat.create("dataset", "affectnet", root=str(root), classes=7, image_size=16)
    labels = sorted(int(source.split("train")[i]["labels"]["expression"]) for i in range(len(source.split("train"))))
    assert labels == [0, 1]  # contempt (7) left out with 7 classes
    assert int(source.split("val")[0]["labels"]["expression"]) == 2
    write_image(root / "train" / "bored" / "v.jpg")
    with pytest.raises(DataError, match="bored"):
        lssat.create("dataset", "affectnet", root=str(root))


def test_affectnet_bad_label_names_file_and_line(tmp_path):
    root = affectnet_csv(tmp_path / "affectnet")
    text = (root / "training.csv").read_text().replace(",3,0.1", ",happy,0.1")
    (root / "training.csv").write_text(text)
    with pytest.raises(DataError, match=r"training.csv:3: expression must be an integer"):
        lssat.create("dataset", "affectnet", root=str(root))


def test_affectnet_split_with_no_image_of_the_kept_expressions_is_an_error(tmp_path):
    """Issue 16 item 7: an empty split is an error naming the split and why."""
    root = tmp_path / "affectnet"
    write_image(root / "train" / "happy" / "x.jpg")
    write_image(root / "val" / "contempt" / "y.jpg")  # left out with 7 classes
    source = lssat.create("dataset", "affectnet", root=str(root), classes=7, image_size=16)
    with pytest.raises(DataError, match=r"AffectNet: the val split is empty: no image of the 7 kept expressions .* holds: contempt"):
        source.split("val")


# ---------------------------------------------------------------- FaceForensics++
def ffpp_tree(root, frames=4, kind="images"):
    pairs = {"train": [["000", "001"]], "val": [["002", "003"]], "test": [["004", "005"]]}
    root.mkdir(parents=True)
    for split, split_pairs in pairs.items():
        (root / f"{split}.json").write_text(json.dumps(split_pairs))
        for a, b in split_pairs:
            for video in (a, b):
                for f in range(frames):
                    write_image(root / "original_sequences" / "youtube" / "c23" / kind / video / f"{f:04d}.png", color=(10, 200, 10))
            for video in (f"{a}_{b}", f"{b}_{a}"):
                for f in range(frames):
                    write_image(root / "manipulated_sequences" / "Deepfakes" / "c23" / kind / video / f"{f:04d}.png", color=(200, 10, 10))
    (root / "manipulated_sequences" / "Face2Face" / "c23").mkdir(parents=True)
    return root


@pytest.mark.parametrize("kind", ["images", "frames"])
def test_ffpp_frames_and_split_lists(tmp_path, kind):
    root = ffpp_tree(tmp_path / "ffpp", kind=kind)
    source = lssat.create("dataset", "ffpp", root=str(root), methods=["Deepfakes"], frames_per_video=2, image_size=16)
    train = source.split("train")
    assert len(train) == 4 * 2  # 2 real + 2 fake videos, 2 frames each
    labels = [int(train[i]["labels"]["fake"]) for i in range(len(train))]
    assert labels == [0, 0, 0, 0, 1, 1, 1, 1]
    videos = {split: {int(source.split(split)[i]["video"]) for i in range(len(source.split(split)))} for split in source.splits}
    assert all(len(v) == 4 for v in videos.values())
    assert not (videos["train"] & videos["val"]) and not (videos["val"] & videos["test"])
    assert train[4]["image"][0].float().mean() > train[0]["image"][0].float().mean()  # fakes are the red frames
    assert source.info.videos  # the deepfake task lists its video metrics


def test_ffpp_missing_frames_say_how_to_extract_them(tmp_path):
    root = ffpp_tree(tmp_path / "ffpp")
    with pytest.raises(DataError, match="lssat prepare ffpp"):
        lssat.create("dataset", "ffpp", root=str(root), methods=["Deepfakes", "Face2Face"])


def test_ffpp_video_with_an_empty_frame_folder_is_an_error_or_a_counted_skip(tmp_path, capsys):
    """Issue 16 item 20: a listed video whose frame folder is empty was dropped without a word."""
    root = ffpp_tree(tmp_path / "ffpp")
    empty = root / "original_sequences" / "youtube" / "c23" / "images" / "001"
    for frame in empty.iterdir():
        frame.unlink()
    with pytest.raises(DataError, match=r"1 videos of the split lists have an empty frame folder .*001; run `lssat prepare ffpp"):
        lssat.create("dataset", "ffpp", root=str(root), methods=["Deepfakes"], image_size=16)
    source = lssat.create("dataset", "ffpp", root=str(root), methods=["Deepfakes"], frames_per_video=2, image_size=16, on_corrupt="skip")
    assert capsys.readouterr().err.count("have no frames and are left out (on_corrupt: skip)") == 1
    train = source.split("train")
    assert len(train) == 3 * 2 and train.skipped == {str(empty)}
    assert train[0]["skipped"] == str(empty) and train[1]["skipped"] == ""  # counted by the trainer like an unreadable image
    assert not source.split("val").skipped


def test_ffpp_split_list_with_no_pair_is_an_error(tmp_path):
    """Issue 16 item 7: an empty split is an error naming the split and why."""
    root = ffpp_tree(tmp_path / "ffpp")
    (root / "val.json").write_text("[]")
    source = lssat.create("dataset", "ffpp", root=str(root), methods=["Deepfakes"], image_size=16)
    with pytest.raises(DataError, match=r"FaceForensics\+\+: the val split is empty: .*val.json lists no pair"):
        source.split("val")
