"""Issue 22: the rows of a dataset's lists (image CSVs, AffectNet's lists, CelebA's; the video
datasets' lists are in test_bad_video_rows.py) are read as UTF-8; a bad row is one error naming
its file and line and what is wrong, or with ``on_bad_row: skip`` left out, counted in
``info.skipped_rows`` and warned of once; a path read from a list never leads outside the
dataset's folder."""

import pytest

import lssat_framework as lssat
from lssat_framework.errors import DataError

from image_files import write_image


# ------------------------------------------------------------------ image-csv
def image_csv(root, *rows, header="path,split,kind"):
    for name in ("a.png", "b.png", "c.png"):
        write_image(root / name)
    path = root / "labels.csv"
    path.write_text("\n".join([header, "a.png,train,cat", "b.png,val,dog", *rows]) + "\n")
    return path


def create_csv(path, **params):
    return lssat.create("dataset", "image-csv", csv=str(path), label_column="kind", image_size=16, **params)


def test_a_short_csv_row_names_its_line_or_is_skipped_and_counted(tmp_path, capsys):
    """It was `TypeError: '<' not supported between NoneType and str` (the class of a short row
    is None)."""
    path = image_csv(tmp_path, "c.png,train")
    with pytest.raises(DataError, match=r"labels.csv:4: 2 fields where the header has 3: no value for 'kind'; data.params.on_bad_row: skip"):
        create_csv(path)
    source = create_csv(path, on_bad_row="skip")
    assert source.info.skipped_rows == [f"{path}:4: 2 fields where the header has 3: no value for 'kind'"]
    assert len(source.split("train")) == 1 and source.info.labels["class"].names == ["cat", "dog"]
    err = capsys.readouterr().err
    assert err.count("warning") == 1 and f"image-csv: 1 bad row of its lists left out (on_bad_row: skip), e.g. {path}:4" in err


def test_a_csv_that_is_not_utf8_says_so_with_its_line(tmp_path):
    """It was a raw UnicodeDecodeError (the file opened in the locale's encoding, or as UTF-8)."""
    path = image_csv(tmp_path)
    path.write_bytes("path,split,kind\na.png,train,cat\nb.png,val,caf\u00e9\n".encode("latin-1"))
    with pytest.raises(DataError, match=r"labels.csv:3: not UTF-8 \(byte 0xe9\): save it as UTF-8"):
        create_csv(path)
    with pytest.raises(DataError, match=r"not UTF-8"):
        create_csv(path, on_bad_row="skip")  # the file, not a row: never skipped


def test_text_lists_and_json_that_are_not_utf8_say_so(tmp_path):
    root = tmp_path / "Celeb-DF-v2"
    write_image(root / "Celeb-real" / "frames" / "id0_0000" / "000.png")
    (root / "List_of_testing_videos.txt").write_bytes("1 Celeb-real/id0_0000.mp4\n1 Celeb-real/caf\u00e9.mp4\n".encode("latin-1"))
    with pytest.raises(DataError, match=r"List_of_testing_videos.txt:2: not UTF-8 \(byte 0xe9\): save it as UTF-8"):
        lssat.create("dataset", "celebdf", root=str(root))
    (root / "List_of_testing_videos.txt").write_bytes("\ufeff1 Celeb-real/id0_0000.mp4\n".encode("utf-8"))  # a BOM is fine
    assert len(lssat.create("dataset", "celebdf", root=str(root), image_size=16).split("test")) == 1
    path = tmp_path / "X.json"
    path.write_bytes('{"X": {"caf\u00e9_real": {}}}'.encode("latin-1"))
    with pytest.raises(DataError, match=r"X.json:1: not UTF-8 \(byte 0xe9\)"):
        lssat.create("dataset", "deepfakebench", json_file=str(path))


def test_a_split_typo_is_a_bad_row_not_a_split_of_its_own(tmp_path):
    """`tarin` made a split nobody trains on, quietly."""
    path = image_csv(tmp_path, "c.png,tarin,cat")
    with pytest.raises(DataError, match=r"labels.csv:4: the split 'tarin' is not one of \['train', 'val', 'test'\] \(did you mean 'train'\?\)"):
        create_csv(path)
    source = create_csv(path, on_bad_row="skip")
    assert source.splits == ("train", "val") and len(source.info.skipped_rows) == 1


@pytest.mark.parametrize("row,message", [
    ("../outside.png,train,cat", r"the path '../outside.png' leads outside"),
    ("/etc/passwd,train,cat", r"the path '/etc/passwd' is absolute"),
    (",train,cat", r"the path is empty"),
    ("c.png,train,", r"the kind is empty"),
    ("c.png,train,cat,extra", r"4 fields where the header has 3 \(a comma in a value that is not quoted\?\)"),
])
def test_csv_paths_stay_in_the_csv_folder_and_empty_values_are_named(tmp_path, row, message):
    (tmp_path / "outside.png").parent.mkdir(parents=True, exist_ok=True)
    write_image(tmp_path / "outside.png")
    path = image_csv(tmp_path / "data", row)
    with pytest.raises(DataError, match=r"labels.csv:4: " + message):
        create_csv(path)
    assert len(create_csv(path, on_bad_row="skip").info.skipped_rows) == 1


def test_attribute_values_that_are_not_0_or_1_are_a_bad_row(tmp_path):
    path = image_csv(tmp_path, "c.png,train,cat,yes", header="path,split,kind,glasses")
    path.write_text("path,split,kind,glasses\na.png,train,cat,1\nb.png,val,dog,0\nc.png,train,cat,yes\n")
    with pytest.raises(DataError, match=r"labels.csv:4: attribute columns hold 0 or 1, got \{'glasses': 'yes'\}"):
        lssat.create("dataset", "image-csv", csv=str(path), attribute_columns=["glasses"])
    skipping = lssat.create("dataset", "image-csv", csv=str(path), attribute_columns=["glasses"], on_bad_row="skip")
    assert skipping.info.skipped_rows == [f"{path}:4: attribute columns hold 0 or 1, got {{'glasses': 'yes'}}"]


def test_a_run_counts_the_skipped_rows_in_its_summary(tmp_path, tiny_spec):
    from lssat_framework.spec import validate_spec
    from lssat_framework.train import train

    rows = [f"{name}.png,{split},{kind}" for split in ("train", "val") for kind in ("cat", "dog") for name in (f"{split}-{kind}-1", f"{split}-{kind}-2")]
    for row in rows:
        write_image(tmp_path / row.split(",")[0], 32)
    (tmp_path / "labels.csv").write_text("\n".join(["path,split,kind", *rows, "x.png,tarin,cat", "y.png,train"]) + "\n")
    tiny_spec["data"] = {"name": "image-csv", "params": {"csv": str(tmp_path / "labels.csv"), "label_column": "kind", "image_size": 32, "on_bad_row": "skip"}}
    tiny_spec["task"] = {"name": "classification", "params": {"label": "class"}}
    summary = train(validate_spec(tiny_spec), tmp_path / "run")
    assert summary["skipped_rows"] == 2


# ------------------------------------------------------------------ AffectNet
AFFECTNET_HEADER = "subDirectory_filePath,face_x,face_y,face_width,face_height,facial_landmarks,expression,valence,arousal"


def affectnet(root, row):
    write_image(root / "Manually_Annotated_Images" / "1" / "a.jpg", 40)
    (root / "training.csv").write_text(f"{AFFECTNET_HEADER}\n1/a.jpg,4,4,30,30,\"1;2\",1,0.1,0.2\n{row}\n")
    (root / "validation.csv").write_text(f"{AFFECTNET_HEADER}\n1/a.jpg,4,4,30,30,\"1;2\",2,0.1,0.2\n")
    return root


@pytest.mark.parametrize("row,message", [
    ("1/a.jpg,NA,4,30,30,\"1;2\",1,0.1,0.2", r"face_x must be a number, got 'NA'"),
    ("1/a.jpg,4,4,30", r"4 fields where the header has 9: no value for 'face_height'"),
    ("1/a.jpg,4,4,0,30,\"1;2\",1,0.1,0.2", r"the face box .* is empty"),
    ("1/a.jpg,4,4,30,30,\"1;2\",12,0.1,0.2", r"expression code 12 is outside 0–10"),
    ("../../../x.jpg,4,4,30,30,\"1;2\",1,0.1,0.2", r"the subDirectory_filePath '../../../x.jpg' leads outside .*Manually_Annotated_Images"),
])
def test_affectnet_bad_rows_name_the_list_and_line(tmp_path, row, message):
    """`face_x = NA` or a short row raised a bare ValueError or TypeError, naming neither file nor line."""
    root = affectnet(tmp_path / "AffectNet", row)
    with pytest.raises(DataError, match=r"training.csv:3: " + message):
        lssat.create("dataset", "affectnet", root=str(root), image_size=16)
    source = lssat.create("dataset", "affectnet", root=str(root), image_size=16, on_bad_row="skip")
    assert len(source.split("train")) == 1 and len(source.info.skipped_rows) == 1
    assert source.info.skipped_rows[0].startswith(f"{root / 'training.csv'}:3: ")


def test_affectnet_rows_left_out_by_design_are_not_bad(tmp_path):
    root = affectnet(tmp_path / "AffectNet", "1/a.jpg,4,4,30,30,\"1;2\",10,0.1,0.2")  # No-Face: not an expression
    source = lssat.create("dataset", "affectnet", root=str(root), image_size=16)
    assert len(source.split("train")) == 1 and source.info.skipped_rows == []


# ------------------------------------------------------------------ CelebA
def celeba(root, attr_rows, partition_rows):
    write_image(root / "img_align_celeba" / "000001.jpg")
    write_image(root / "img_align_celeba" / "000002.jpg")
    (root / "list_attr_celeba.txt").write_text("\n".join(["2", "Male Smiling", *attr_rows]) + "\n")
    (root / "list_eval_partition.txt").write_text("\n".join(partition_rows) + "\n")
    return root


@pytest.mark.parametrize("attr,partition,where,message", [
    ("000002.jpg 1 x", "000002.jpg 1", "list_attr_celeba.txt:4", r"attribute values are 1 or -1, got 'x'"),
    ("../000002.jpg 1 1", "000002.jpg 1", "list_attr_celeba.txt:4", r"the image name '../000002.jpg' leads outside"),
    ("000002.jpg 1 1", "000002.jpg val", "list_eval_partition.txt:2", r"the partition code must be an integer, got 'val'"),
    ("000002.jpg 1 1", "000002.jpg 5", "list_eval_partition.txt:2", r"the partition code is 0 \(train\), 1 \(val\) or 2 \(test\), got 5"),
])
def test_celeba_bad_rows_name_the_list_and_line(tmp_path, attr, partition, where, message):
    """A partition code that was not a number raised a bare ValueError."""
    root = celeba(tmp_path / "celeba", ["000001.jpg 1 -1", attr], ["000001.jpg 0", partition])
    with pytest.raises(DataError, match=rf"{where}: {message}"):
        lssat.create("dataset", "celeba", root=str(root), image_size=16)
    source = lssat.create("dataset", "celeba", root=str(root), image_size=16, on_bad_row="skip")
    assert len(source.split("train")) == 1 and source.info.skipped_rows[0].startswith(str(root / where))


# ------------------------------------------------------------------ the helper
def test_inside_keeps_paths_under_their_folder(tmp_path):
    from lssat_datasets.rows import BadRow, inside, within

    assert inside(tmp_path, "a/b.png") == tmp_path / "a" / "b.png"
    assert inside(tmp_path, "a\\b.png") == tmp_path / "a" / "b.png"  # Windows separators
    assert inside(tmp_path, "a/../b.png") == tmp_path / "b.png"
    assert inside(tmp_path, str(tmp_path / "a.png"), absolute=True) == tmp_path / "a.png"
    for text in ("../a.png", "a/../../b.png", "", "..", ".", str(tmp_path / "a.png")):
        with pytest.raises(BadRow):
            inside(tmp_path, text)
    with pytest.raises(BadRow, match="leads outside"):
        inside(tmp_path / "x", str(tmp_path / "a.png"), absolute=True)
    assert within(tmp_path, tmp_path / "x" / "y") == tmp_path / "x" / "y" and within(tmp_path, tmp_path / ".." / "y") is None
