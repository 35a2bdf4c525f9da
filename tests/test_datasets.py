"""The users' datasets in their official layouts, built in miniature, read back with the right
labels and splits; and the data that ships with the package."""

import json

import numpy as np
import pytest
import torch
from PIL import Image

import lssat_framework as lssat
from lssat_framework.errors import DataError
from lssat_framework.images import as_unit_float, load_image
from lssat_framework.spec import validate_spec


def train(spec, out_dir):
    """A run, with the training loop imported only by the tests that train."""
    from lssat_framework.train import train as run

    return run(spec, out_dir)


def write_image(path, size=(24, 20), color=(200, 30, 30), box=None, box_color=(0, 0, 255)):
    path.parent.mkdir(parents=True, exist_ok=True)
    array = np.zeros((size[1], size[0], 3), np.uint8) + np.array(color, np.uint8)
    if box is not None:
        left, top, width, height = box
        array[top : top + height, left : left + width] = box_color
    Image.fromarray(array).save(path)
    return path


# --------------------------------------------------------------------- reading one image
def pil_resized(image, size, box=None):
    """What PIL's crop and bilinear resize make of ``image``, as ``3×size×size`` bytes."""
    cropped = image.crop(box) if box is not None else image
    return torch.from_numpy(np.array(cropped.resize((size, size), Image.BILINEAR))).permute(2, 0, 1).int()


def test_an_image_is_read_as_the_bytes_pil_would_resize_it_to(tmp_path):
    from skimage import data

    photo = Image.fromarray(data.astronaut())  # 512×512
    photo.save(tmp_path / "photo.png")
    image = load_image(tmp_path / "photo.png", 64)
    assert image.dtype == torch.uint8 and image.shape == (3, 64, 64)
    assert (image.int() - pil_resized(photo, 64)).abs().max() <= 1
    # a face box reaching past the image's edge: the outside is black, as PIL's crop makes it
    partly_outside = load_image(tmp_path / "photo.png", 32, box=(-100, 300, 300, 300))
    assert (partly_outside.int() - pil_resized(photo, 32, (-100, 300, 200, 600))).abs().max() <= 1
    assert partly_outside[:, :, :4].max() == 0 and partly_outside[:, -4:].max() == 0
    with pytest.raises(DataError, match=r"photo.png: the crop box \(5, 5, 0, 10\) is empty"):
        load_image(tmp_path / "photo.png", 32, box=(5, 5, 0, 10))


def sizes_jpegs_decode_at(monkeypatch) -> list[tuple[int, int]]:
    """A list that receives the size each JPEG is decoded at (after PIL's ``draft``)."""
    from PIL import JpegImagePlugin

    decoded = []
    draft = JpegImagePlugin.JpegImageFile.draft

    def spy(self, mode, size):
        result = draft(self, mode, size)
        decoded.append(self.size)
        return result

    monkeypatch.setattr(JpegImagePlugin.JpegImageFile, "draft", spy)
    return decoded


def test_a_large_jpeg_is_decoded_at_reduced_size(tmp_path, monkeypatch):
    from skimage import data

    photo = Image.fromarray(data.astronaut())
    photo.save(tmp_path / "photo.jpg", quality=95)
    decoded = sizes_jpegs_decode_at(monkeypatch)
    image = load_image(tmp_path / "photo.jpg", 64)
    assert decoded == [(128, 128)]  # an eighth of the pixels, still twice the target size
    full = pil_resized(Image.open(tmp_path / "photo.jpg").convert("RGB"), 64)
    assert (image.int() - full).abs().float().mean() < 2  # levels of 255: as good as decoding it all
    load_image(tmp_path / "photo.jpg", 200)
    assert decoded[-1] == (512, 512)  # no reduction leaves twice the target


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


# ------------------------------------------------------------- bad images, generic
def test_corrupt_image_is_an_error_naming_the_file_or_skipped_and_counted(tmp_path, capsys):
    root = tmp_path / "folder"
    for split in ("train", "val"):
        for cls in ("a", "b"):
            write_image(root / split / cls / "ok.png")
    (root / "train" / "a" / "broken.png").write_bytes(b"not an image")
    source = lssat.create("dataset", "image-folder", root=str(root), image_size=16)
    with pytest.raises(DataError, match="broken.png"):
        [source.split("train")[i] for i in range(3)]
    skipping = lssat.create("dataset", "image-folder", root=str(root), image_size=16, on_corrupt="skip")
    train = skipping.split("train")
    items = [train[i] for i in range(len(train))]
    assert len(items) == 3 and train.skipped == {str(root / "train" / "a" / "broken.png")}
    assert [item["skipped"] for item in items] == [str(root / "train" / "a" / "broken.png"), "", ""]
    assert "lssat: warning" not in capsys.readouterr().err  # the trainer warns, once per file, in the main process


def corrupt_folder(root, broken=("a/broken1.png", "b/broken2.png")):
    for split in ("train", "val"):
        for cls in ("a", "b"):
            for i in range(3):
                write_image(root / split / cls / f"ok{i}.png")
    for name in broken:
        (root / "train" / name).write_bytes(b"not an image")
    return [str(root / "train" / name) for name in broken]


def test_skipped_files_reach_the_main_process_through_dataloader_workers(tmp_path):
    """Issue 16 item 6: skips made in DataLoader workers were lost; every item now names the
    unreadable files it replaced, so the batches carry them to the main process."""
    broken = corrupt_folder(tmp_path / "folder")
    source = lssat.create("dataset", "image-folder", root=str(tmp_path / "folder"), image_size=16, on_corrupt="skip")
    loader = torch.utils.data.DataLoader(source.split("train"), batch_size=2, num_workers=2)
    entries = [entry for batch in loader for entry in batch["skipped"]]
    assert len(entries) == 8  # one string per item, "" for an image read as listed
    assert {path for entry in entries if entry for path in entry.split("\n")} == set(broken)


def test_an_item_names_every_unreadable_file_it_replaced(tmp_path):
    """Issue 16 item 6: two unreadable files in a row are both named by the item that replaced them."""
    root = tmp_path / "folder"
    broken = corrupt_folder(root, broken=("a/0-broken.png", "a/1-broken.png"))
    train = lssat.create("dataset", "image-folder", root=str(root), image_size=16, on_corrupt="skip").split("train")
    assert train[0]["skipped"].split("\n") == broken
    assert train[2]["skipped"] == ""


def test_image_csv_with_class_and_attribute_columns(tmp_path):
    for name in ("a.png", "b.png", "c.png"):
        write_image(tmp_path / "img" / name)
    (tmp_path / "labels.csv").write_text("path,split,kind,glasses\nimg/a.png,train,cat,1\nimg/b.png,train,dog,0\nimg/c.png,val,dog,1\n")
    source = lssat.create("dataset", "image-csv", csv=str(tmp_path / "labels.csv"), label_column="kind", attribute_columns=["glasses"], image_size=16)
    assert source.info.labels["class"].names == ["cat", "dog"]
    item = source.split("val")[0]
    assert int(item["labels"]["class"]) == 1 and item["labels"]["attributes"].tolist() == [1.0]


def test_a_run_on_a_folder_counts_skipped_images_in_its_summary(tmp_path, tiny_spec):
    root = tmp_path / "folder"
    for split in ("train", "val"):
        for cls in ("a", "b"):
            for i in range(4):
                write_image(root / split / cls / f"{i}.png", color=(50 * i, 100 if cls == "a" else 10, 30))
    (root / "train" / "a" / "zz-broken.png").write_bytes(b"\x89PNG broken")
    tiny_spec["data"] = {"name": "image-folder", "params": {"root": str(root), "image_size": 32, "on_corrupt": "skip"}}
    tiny_spec["task"] = {"name": "classification", "params": {"label": "class"}}
    summary = train(validate_spec(tiny_spec), tmp_path / "run")
    assert summary["skipped_images"] == 1
    assert summary["final"]["count"] == 8


def test_image_folder_split_without_images_is_an_error(tmp_path):
    """Issue 16 item 7: an empty split is an error naming the split and why."""
    root = tmp_path / "folder"
    write_image(root / "train" / "a" / "x.png")
    (root / "val" / "a").mkdir(parents=True)
    source = lssat.create("dataset", "image-folder", root=str(root), image_size=16)
    with pytest.raises(DataError, match=r"image-folder: the val split is empty: no image in the class folders of .*val, which holds: a"):
        source.split("val")


def test_image_csv_written_with_a_byte_order_mark_finds_its_columns(tmp_path):
    """Issue 16, messages: a CSV saved by a spreadsheet starts with a BOM, which hid the path column."""
    write_image(tmp_path / "a.png")
    write_image(tmp_path / "b.png")
    (tmp_path / "labels.csv").write_bytes("path,split,kind\na.png,train,x\nb.png,val,y\n".encode("utf-8-sig"))
    source = lssat.create("dataset", "image-csv", csv=str(tmp_path / "labels.csv"), label_column="kind", image_size=16)
    assert len(source.split("train")) == 1


def test_integer_class_names_are_ordered_by_number(tmp_path):
    """Issue 16, messages: class names 1, 2, 10 sorted as text put "2" at index 2 of [1, 10, 2]."""
    rows = ["path,split,level"]
    for split in ("train", "val"):
        for level in ("2", "10", "1"):
            write_image(tmp_path / split / level / "x.png")
            rows.append(f"{split}/{level}/x.png,{split},{level}")
    (tmp_path / "labels.csv").write_text("\n".join(rows) + "\n")
    by_csv = lssat.create("dataset", "image-csv", csv=str(tmp_path / "labels.csv"), label_column="level", image_size=16)
    by_folder = lssat.create("dataset", "image-folder", root=str(tmp_path), image_size=16)
    for source in (by_csv, by_folder):
        assert source.info.labels["class"].names == ["1", "2", "10"]
        split = source.split("train")
        assert {split.samples[i].path.parent.name: int(split[i]["labels"]["class"]) for i in range(3)} == {"1": 0, "2": 1, "10": 2}


def test_image_folder_hidden_folders_are_not_classes(tmp_path):
    """Issue 16, messages: Jupyter's .ipynb_checkpoints folder was counted as a class."""
    root = tmp_path / "folder"
    for split in ("train", "val"):
        write_image(root / split / "cat" / "x.png")
        write_image(root / split / "dog" / "x.png")
        write_image(root / split / ".ipynb_checkpoints" / "x-checkpoint.png")
    source = lssat.create("dataset", "image-folder", root=str(root), image_size=16)
    assert source.info.labels["class"].names == ["cat", "dog"]
    assert len(source.split("train")) == 2


def test_lfw_sbi_is_deterministic_balanced_and_split_by_photograph():
    source = lssat.create("dataset", "lfw-sbi", image_size=32)
    assert [len(source.split(s)) for s in source.splits] == [140, 30, 30]
    train = source.split("train")
    assert [int(train[i]["labels"]["fake"]) for i in range(4)] == [0, 1, 0, 1]
    again = lssat.create("dataset", "lfw-sbi", image_size=32).split("train")
    torch.testing.assert_close(train[1]["image"], again[1]["image"])
    difference = (train[1]["image"] - train[0]["image"]).abs()
    assert difference.max() > 0.02  # the fake differs from its real photograph
    assert difference[:, :3, :3].max() < 1e-6  # ... but not in the corner, outside the blend mask


@pytest.mark.parametrize("task,metric,chance", [("deepfake", "auc", 0.5), ("emotion", "acc", 1 / 7), ("attributes", "mean_acc", None)])
def test_a_short_run_learns_each_synthetic_task_well_above_chance(tmp_path, task, metric, chance):
    spec = {
        "name": task,
        "data": {"name": "synthetic-faces", "params": {"image_size": 48, "train": 800, "val": 200}},
        "task": {"name": task},
        "backbone": {"name": "resnet18"},
        "ssl": {"name": "none"},
        "classify": "rgb",
        "loss": {"task": 1.0, "ssl": 0.0},
        "train": {"epochs": 3, "batch_size": 32, "lr": 1.0e-3, "cpu": True, "recon_grid": False, "augment": {"flip": False}},
    }
    if chance is None:  # attributes: always answering each attribute's majority value
        val = lssat.create("dataset", "synthetic-faces", image_size=16, train=1, val=200).split("val")
        positives = torch.stack([val[i]["labels"]["attributes"] for i in range(len(val))]).mean(dim=0)
        chance = float(torch.maximum(positives, 1 - positives).mean())
    summary = train(validate_spec(spec), tmp_path / task)
    assert summary["final"][metric] > chance + 0.1, (summary["final"][metric], chance)


# --------------------------------------------------------------------- registration
REGISTER_IN_A_FRESH_PROCESS = """
import argparse, json, sys
import lssat_datasets
names = {"dataset": [], "face_detector": []}
lssat_datasets.register_datasets(lambda name, *rest: names["dataset"].append(name))
lssat_datasets.register_face_detectors(lambda name, *rest: names["face_detector"].append(name))
commands = argparse.ArgumentParser(prog="lssat").add_subparsers()
lssat_datasets.register_commands(commands)
heavy = [m for m in ("torch", "numpy", "PIL", "skimage", "av") if m in sys.modules]
print(json.dumps({"names": names, "commands": sorted(commands.choices), "heavy": heavy}))
"""


def builtin_datasets_plugin():
    """The shipped plugin's components, as the test process's plugin manager lists them."""
    from lssat_datasets.faces import face_detectors
    from lssat_framework.plugins import get_plugin_manager

    manager = get_plugin_manager()
    info = next(info for info in manager.active_plugins() if info.target == "lssat_datasets")

    def ours(component):
        return (component.plugin, component.distribution) == (info.name, info.distribution)

    detectors = {c.qualified_name: c for c in face_detectors(manager).values() if ours(c)}
    return [c for c in manager.components("dataset") if ours(c)], list(detectors.values())


def test_the_plugin_registers_everything_without_importing_torch_numpy_or_the_readers():
    """Issue 14: the datasets and detectors are registered by reference with params models that
    import pydantic only, and the prepare parser is light, so `lssat --help` answers at once."""
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", REGISTER_IN_A_FRESH_PROCESS], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout.splitlines()[-1])
    assert found["heavy"] == []
    datasets, detectors = builtin_datasets_plugin()
    assert sorted(found["names"]["dataset"]) == sorted(c.name for c in datasets)
    assert sorted(found["names"]["face_detector"]) == sorted(c.name for c in detectors)
    assert "prepare" in found["commands"]


def test_every_builtin_dataset_and_detector_reference_resolves():
    """Issue 14: each reference names a class that exists and takes its params model's fields."""
    datasets, detectors = builtin_datasets_plugin()
    assert datasets and detectors
    for component in datasets + detectors:
        assert component.reference is not None, component.name
        assert callable(component.resolve()), component.reference
