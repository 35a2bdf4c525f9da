"""One image read as PIL would read it (crop, resize, JPEGs decoded at a reduced size), the
generic image-folder and image-csv sources, and unreadable images: an error naming the file, or
skipped and counted."""

import numpy as np
import pytest
import torch
from PIL import Image

import lssat_framework as lssat
from lssat_framework.errors import DataError
from lssat_framework.images import load_image
from lssat_framework.spec import validate_spec
from lssat_framework.train import train

from image_files import write_image


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
