"""What a run reports: the best checkpoint, skipped files, empty splits, a finished run resumed."""

import json

import pytest
import torch
import yaml
from PIL import Image

from lssat_framework.errors import DataError, LssatError
from lssat_framework.spec import validate_spec
from lssat_framework.train import train

from every_kind import every_kind, plugin_spec  # noqa: F401 - every_kind is a fixture
from test_train import read_jsonl


def test_best_checkpoint_follows_the_metric_direction_and_nan_never_wins(tmp_path, every_kind):
    """Issue 16 item 4: a NaN at the first epoch stayed "best" forever, and metrics where lower is
    better (fairness gaps) were maximised. The scripted task reports NaN, 0.3, 0.1, 0.2."""
    spec = plugin_spec()
    spec["task"] = {"name": "scripted-task"}
    summary = train(validate_spec(spec, manager=every_kind), tmp_path / "run")
    assert summary["best"] == {"epoch": 3, "metric": "score_gap@g", "value": 0.1}
    state = json.loads((tmp_path / "run" / "checkpoints" / "best" / "trainer_state.json").read_text())
    assert state["epoch"] == 3


def test_best_metric_is_checked_before_training_and_accepts_the_val_prefix(tmp_path, every_kind):
    """Issue 16 (messages): train.best_metric was checked only after the first epoch had trained;
    the names metrics.jsonl shows (`val_...`) are accepted."""
    spec = plugin_spec()
    spec["task"] = {"name": "scripted-task"}
    spec["train"]["best_metric"] = "val_score"
    with pytest.raises(LssatError, match="score_gap@g"):
        train(validate_spec(spec, manager=every_kind), tmp_path / "typo")
    assert not (tmp_path / "typo" / "metrics.jsonl").exists()
    spec["train"]["best_metric"] = "val_score_gap@g"
    spec["train"]["epochs"] = 2
    assert train(validate_spec(spec, manager=every_kind), tmp_path / "prefixed")["best"]["epoch"] == 2


@pytest.mark.parametrize("split", ["train", "val"])
def test_an_empty_split_is_an_error_before_training(tmp_path, every_kind, split):
    """Issue 16 item 7: an empty training split "succeeded" with 0 optimiser steps; an empty
    validation split crashed after a whole epoch of training."""
    spec = plugin_spec()
    spec["data"]["params"]["empty"] = split
    with pytest.raises(DataError, match=f"'{split}' split of dataset 'stripes' is empty"):
        train(validate_spec(spec, manager=every_kind), tmp_path / "run")
    assert not (tmp_path / "run" / "metrics.jsonl").exists()


def image_folder(root, corrupt=()):
    for split, count in (("train", 12), ("val", 6)):
        for label in ("a", "b"):
            folder = root / split / label
            folder.mkdir(parents=True)
            for i in range(count // 2):
                Image.fromarray((torch.rand(32, 32, 3) * 255).byte().numpy()).save(folder / f"{i}.png")
    for path in corrupt:
        (root / path).write_bytes(b"not an image")
    return root


def test_skipped_images_are_counted_with_loader_workers(tmp_path, tiny_spec, capfd):
    """Issue 16 item 6: with num_workers > 0 the skips were recorded in the workers' copies of the
    dataset: 2 corrupt files gave skipped_images 0, and the warnings repeated every epoch."""
    root = image_folder(tmp_path / "images", corrupt=("train/a/0.png", "train/b/1.png"))
    tiny_spec["data"] = {"name": "image-folder", "params": {"root": str(root), "image_size": 32, "on_corrupt": "skip"}}
    tiny_spec["task"] = {"name": "classification", "params": {"label": "class"}}
    tiny_spec["train"].update(epochs=2, num_workers=2, recon_grid=False)
    summary = train(validate_spec(tiny_spec), tmp_path / "run")
    assert summary["skipped_images"] == 2
    err = capfd.readouterr().err
    for name in ("train/a/0.png", "train/b/1.png"):
        assert err.count(name) == 1, err


def test_resume_of_a_finished_run_says_it_is_finished(tmp_path, every_kind, capsys):
    """Issue 16 item 31: `--resume` on a finished run printed "resuming ... at epoch 5"."""
    spec = plugin_spec()
    spec["train"]["epochs"] = 1
    first = train(validate_spec(spec, manager=every_kind), tmp_path / "run")
    capsys.readouterr()
    again = train(validate_spec(spec, manager=every_kind), tmp_path / "run", resume=True)
    captured = capsys.readouterr()
    assert "is finished" in captured.err and "resuming" not in captured.out + captured.err
    assert again["final"] == json.loads(json.dumps(first["final"]))
    assert len(read_jsonl(tmp_path / "run" / "metrics.jsonl")) == 1


def test_summary_states_the_uncertainty_of_its_headline(tmp_path, tiny_spec):
    """The headline metric carries a bootstrap interval over the evaluated samples and the
    chance level (0.5 for AUC)."""
    summary = train(validate_spec(tiny_spec), tmp_path / "run")
    interval = summary["final_interval"]
    assert interval["low"] <= summary["final"]["auc"] <= interval["high"]
    assert interval["level"] == 0.95 and interval["unit"] == "sample"
    assert summary["chance"] == 0.5
    assert yaml.safe_load((tmp_path / "run" / "spec.yaml").read_text())["name"] == "tiny"


def test_the_reported_figures_all_come_from_the_best_weights_on_the_test_split(tmp_path, tiny_spec, monkeypatch):
    """The leaderboard value and interval came from the final weights, the @<test set> columns
    from the best checkpoint, and nothing said which was which. Now: the best weights (chosen on
    validation), reported on the test split where the dataset has one, else on validation."""
    import numpy as np

    from lssat_datasets.synthetic import SyntheticFaces
    from lssat_framework.train import evaluate_checkpoint

    tiny_spec["train"]["epochs"] = 2
    summary = train(validate_spec(tiny_spec), tmp_path / "run")
    reported = summary["reported"]
    assert reported["weights"] == "best" and reported["epoch"] == summary["best"]["epoch"] and reported["split"] == "test"
    assert reported["metrics"]["auc"] == pytest.approx(evaluate_checkpoint(validate_spec(tiny_spec), tmp_path / "run", split="test")["auc"])
    assert reported["interval"]["low"] <= reported["metrics"]["auc"] <= reported["interval"]["high"] and reported["samples"] == 8
    best = tmp_path / "run" / "checkpoints" / "best"
    assert np.load(best / "predictions_test.npz", allow_pickle=False)["logits"].shape == (8, 1)
    assert np.load(best / "predictions.npz", allow_pickle=False)["logits"].shape == (13, 1)  # validation's, saved with the weights

    monkeypatch.setattr(SyntheticFaces, "splits", ("train", "val"))  # a dataset without a test split
    summary = train(validate_spec(tiny_spec), tmp_path / "no-test")
    reported = summary["reported"]
    assert reported["split"] == "val" and reported["metrics"]["auc"] == pytest.approx(summary["best"]["value"]) and reported["samples"] == 13


def test_the_summary_records_the_input_normalisation_and_old_runs_are_named_on_eval(tmp_path, tiny_spec, capsys):
    """Runs did not say how their inputs were normalised; weights trained on [0, 1] inputs now
    meet normalised ones, which eval says."""
    from lssat_framework.train import evaluate_checkpoint

    tiny_spec["train"]["recon_grid"] = False
    summary = train(validate_spec(tiny_spec), tmp_path / "run")
    assert set(summary["input_normalisation"]) == {"rgb", "ldp"}
    assert len(summary["input_normalisation"]["rgb"]["mean"]) == 3
    capsys.readouterr()
    evaluate_checkpoint(validate_spec(tiny_spec), tmp_path / "run")
    assert "trained before inputs were normalised" not in capsys.readouterr().err
    (tmp_path / "run" / "resolved.json").unlink()  # as a run of version 0.1 has none
    evaluate_checkpoint(validate_spec(tiny_spec), tmp_path / "run")
    assert "trained before inputs were normalised" in capsys.readouterr().err
