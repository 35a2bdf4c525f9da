"""An attribute run (CelebA-style, multi-label) predicts on a photo of a person: the face is
cropped first, the crop is the one `lssat prepare` would write, and its scores are `lssat eval`'s."""

import json

import numpy as np
import pytest

from lssat_framework import cli
from predict_media import face_photo, read_csv, save_photo, train_run


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    return train_run(tmp_path_factory.mktemp("predict-attributes"), name="attributes")


def prepares_crop(photo: np.ndarray):
    """The crop and face box prepare's steps give a one-frame video of ``photo`` (its defaults)."""
    from lssat_datasets.extract import Settings
    from lssat_datasets.faces import LbpCascade

    finder = Settings(8, 256, LbpCascade).finder()
    faces = finder.faces([photo])
    return finder.crop(photo, finder.plan([photo], faces).crops[0]), faces[0]


def eval_scores(run, crop_file, folder) -> np.ndarray:
    """`lssat eval`'s scores of one crop file, listed in an image-csv with the run's attributes."""
    from lssat_framework.spec.validation import load_spec
    from lssat_framework.train.trained import checkpoint_evaluation

    names = json.loads((run / "dataset.json").read_text())["labels"]["attributes"]["names"]
    rows = [f"{crop_file.name},{split}," + ",".join(["1", "0"] * (len(names) // 2) + ["1"] * (len(names) % 2)) for split in ("train", "val", "test")]
    (folder / "list.csv").write_text("path,split," + ",".join(names) + "\n" + "\n".join(rows) + "\n")
    data = {"name": "image-csv", "params": {"csv": str(folder / "list.csv"), "attribute_columns": names, "image_size": 32}}
    evaluation, task = checkpoint_evaluation(load_spec(run / "spec.yaml", [f"data={json.dumps(data)}"]), run, "test")
    return task.scores(evaluation.logits).numpy()[0]


def test_a_photo_is_cropped_as_prepare_crops_and_scored_as_lssat_eval_scores_that_crop(run, tmp_path):
    from PIL import Image

    from lssat_framework.predict.job import find_reader

    photo_file = save_photo(tmp_path / "astronaut.png")
    crop, box = prepares_crop(face_photo())
    reader = find_reader(None)
    read = reader.read(photo_file, reader.settings(None, {}))
    predicted, = list(read.crops)
    assert read.kind == "image" and np.array_equal(predicted.image, crop) and predicted.box == box
    assert crop.shape == (256, 256, 3) and box[2] < face_photo().shape[0] / 2  # the face, not the whole photo

    assert cli.main(["predict", str(run), str(photo_file), "--out", str(tmp_path / "out")]) == 0
    frame, = read_csv(tmp_path / "out" / "frames.csv")
    row, = read_csv(tmp_path / "out" / "predictions.csv")
    Image.fromarray(crop).save(tmp_path / "crop.png")
    expected = eval_scores(run, tmp_path / "crop.png", tmp_path)
    columns = [c for c in frame if c.startswith("p_")]
    assert len(columns) == len(expected) > 1
    assert np.allclose([float(frame[c]) for c in columns], expected, atol=1e-6)
    assert [float(row[c]) for c in columns] == [float(frame[c]) for c in columns]  # one frame: the photo's answer is its frame's
    assert row["kind"] == "image" and row["status"] == "scored" and not row["verdict"]  # no verdict for attributes
    assert float(frame["top"]) == pytest.approx(box[0], abs=0.05) and not (tmp_path / "out" / "astronaut.png").exists()
