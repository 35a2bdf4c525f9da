"""`lssat eval` and `lssat predict` on trained runs: the right spec, the right weights, the run
directory alone."""

import csv
import shutil

import pytest
import torch
import yaml
from PIL import Image

from lssat_framework import cli
from lssat_framework.errors import LssatError
from lssat_framework.spec import validate_spec
from lssat_framework.train import evaluate_checkpoint, train
from lssat_framework.train.rundir import find_weights

from test_run_outcomes import image_folder


def photos(folder, count=3):
    folder.mkdir()
    for i in range(count):
        Image.fromarray((torch.rand(40, 30, 3) * 255).byte().numpy()).save(folder / f"{i}.png")
    return folder


def test_eval_of_a_sweep_variant_uses_the_variants_own_spec(tmp_path, tiny_spec):
    """Issue 16 item 8: `lssat eval SPEC --checkpoint VARIANT_DIR` ignored `sweep:` and evaluated
    the base spec's data (AUC 0.359 against the variant's own 0.5)."""
    tiny_spec["train"]["recon_grid"] = False
    tiny_spec["sweep"] = {"data.params.seed": [7, 8]}
    spec_path = tmp_path / "sweep.yaml"
    spec_path.write_text(yaml.safe_dump(tiny_spec))
    assert cli.main(["run", str(spec_path), "--out", str(tmp_path / "sweep")]) == 0
    variant = next(p for p in (tmp_path / "sweep").iterdir() if p.is_dir() and "8" in p.name)
    own = yaml.safe_load((variant / "spec.yaml").read_text())
    assert own["data"]["params"]["seed"] == 8
    expected = evaluate_checkpoint(validate_spec(own), variant / "checkpoints" / "last")
    got = evaluate_checkpoint(validate_spec(tiny_spec), variant / "checkpoints" / "last")
    assert got == expected


def test_eval_with_a_spec_of_another_model_is_a_clear_error(tmp_path, tiny_spec):
    """Issue 16 item 8: weights of another model gave a raw RuntimeError."""
    tiny_spec["train"]["recon_grid"] = False
    train(validate_spec(tiny_spec), tmp_path / "run")
    tiny_spec["backbone"]["params"]["depth"] = 2
    with pytest.raises(LssatError, match="backbone differ from the run's own"):
        evaluate_checkpoint(validate_spec(tiny_spec), tmp_path / "run")


def test_eval_and_predict_use_the_best_checkpoint_of_a_run(tmp_path, tiny_spec):
    """Issue 16 item 31: `lssat eval`/`predict` used the final model.safetensors, not the best
    checkpoint."""
    tiny_spec["train"].update(epochs=2, recon_grid=False)
    summary = train(validate_spec(tiny_spec), tmp_path / "run")
    weights = find_weights(tmp_path / "run")
    assert weights.file == tmp_path / "run" / "checkpoints" / "best" / "model.safetensors"
    assert f"epoch {summary['best']['epoch']}" in weights.description
    best = evaluate_checkpoint(None, tmp_path / "run")
    assert best["auc"] == pytest.approx(summary["best"]["value"])
    assert find_weights(tmp_path / "run" / "model.safetensors").description.startswith("the file")


def test_predict_needs_only_the_run_directory(tmp_path, tiny_spec):
    """Issue 16 item 12: `lssat predict` built the training dataset to learn the image size, so it
    failed once the training data had moved."""
    root = image_folder(tmp_path / "data")
    tiny_spec["data"] = {"name": "image-folder", "params": {"root": str(root), "image_size": 32}}
    tiny_spec["task"] = {"name": "classification", "params": {"label": "class"}}
    tiny_spec["train"]["recon_grid"] = False
    train(validate_spec(tiny_spec), tmp_path / "run")
    shutil.rmtree(root)
    out = tmp_path / "predictions.csv"
    assert cli.main(["predict", str(photos(tmp_path / "new")), "--checkpoint", str(tmp_path / "run"), "--out", str(out)]) == 0
    with open(out) as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 3 and set(rows[0]) == {"path", "p_a", "p_b", "label"}


def test_predict_on_a_multilabel_task_writes_the_same_columns_for_every_image(tmp_path, tiny_spec):
    """Issue 16 item 13: on a multi-label task a `label` column was added to some rows only (a
    "sums to one" guess) and the CSV ended after one row."""
    tiny_spec["task"] = {"name": "attributes"}
    tiny_spec["train"]["recon_grid"] = False
    train(validate_spec(tiny_spec), tmp_path / "run")
    out = tmp_path / "predictions.csv"
    assert cli.main(["predict", str(photos(tmp_path / "new", 6)), "--checkpoint", str(tmp_path / "run"), "--out", str(out)]) == 0
    with open(out) as handle:
        reader = csv.reader(handle)
        header = next(reader)
        rows = list(reader)
    assert len(rows) == 6 and all(len(row) == len(header) for row in rows)
    assert "label" not in header and all(name.startswith("p_") for name in header[1:])


def test_eval_writes_a_report_naming_the_weights_split_counts_interval_and_chance(tmp_path, tiny_spec, monkeypatch, capsys):
    """`lssat eval --split` printed the metrics only: no file, no interval, no chance, no split."""
    import json

    from lssat_framework import cli
    from lssat_framework.spec import validate_spec
    from lssat_framework.train import train

    tiny_spec["train"]["recon_grid"] = False
    train(validate_spec(tiny_spec), tmp_path / "run")
    spec = tmp_path / "spec.yaml"
    spec.write_text(__import__("yaml").safe_dump(tiny_spec))
    monkeypatch.chdir(tmp_path)
    capsys.readouterr()
    assert cli.main(["eval", str(spec), "--checkpoint", str(tmp_path / "run"), "--split", "test"]) == 0
    printed = json.loads(capsys.readouterr().out)
    report = json.loads((tmp_path / "eval_test.json").read_text())
    assert printed == report and report["split"] == "test" and report["samples"] == 8 and report["videos"] is None
    assert report["weights"].startswith("best (epoch 1") and report["headline"] == "auc" and report["chance"] == 0.5
    assert report["value"] == report["metrics"]["auc"] and report["interval"]["low"] <= report["value"] <= report["interval"]["high"]
