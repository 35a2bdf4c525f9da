"""Runs end to end: files written, every hook from a plugin, predictions (a run killed and
resumed: test_lock.py; two processes: test_two_processes.py)."""

import json

import pytest
import torch

from lssat_framework import cli
from lssat_framework.errors import LssatError, TrainingError
from lssat_framework.model import build
from lssat_framework.spec import validate_spec
from lssat_framework.train import evaluate_checkpoint, train

from every_kind import every_kind, plugin_spec  # noqa: F401 - every_kind is a fixture


def read_jsonl(path):
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def test_tiny_run_end_to_end(tmp_path, tiny_spec):
    out = tmp_path / "run"
    summary = train(validate_spec(tiny_spec), out)
    for name in ("spec.yaml", "plugins.json", "metrics.jsonl", "summary.json", "model.safetensors", "backbone.safetensors", "recon/epoch_001.png"):
        assert (out / name).is_file(), name
    assert (out / "checkpoints" / "last" / "trainer_state.json").is_file()
    assert (out / "checkpoints" / "best" / "trainer_state.json").is_file()
    (record,) = read_jsonl(out / "metrics.jsonl")
    assert record["val_count"] == 13  # the whole split, every sample once
    for key in ("train_loss", "train_loss_task", "train_loss_rec_ldp", "val_auc", "val_acc", "val_eer", "images_per_s", "step_time_s", "peak_mem_mb"):
        assert key in record, key
    assert summary["final"]["auc"] == record["val_auc"]
    assert json.loads((out / "plugins.json").read_text())["descriptors"]["status"] == "ok"
    described = json.loads((out / "optimizer.json").read_text())["parameters"]
    trainable = {n: p for n, p in build(validate_spec(tiny_spec)).model.named_parameters() if p.requires_grad}
    assert [d["name"] for d in described] == list(trainable)
    assert {d["name"]: d["weight_decay"] for d in described}["backbone.model.pos_embed"] == 0.0
    # the exported weights give the same metrics again
    again = evaluate_checkpoint(validate_spec(tiny_spec), out)
    assert again["auc"] == pytest.approx(record["val_auc"])
    with pytest.raises(LssatError, match="already holds a run"):
        train(validate_spec(tiny_spec), out)


def test_resume_without_checkpoint_and_fp16_on_cpu_are_clear_errors(tmp_path, tiny_spec):
    with pytest.raises(LssatError, match="no checkpoint"):
        train(validate_spec(tiny_spec), tmp_path / "nothing", resume=True)
    tiny_spec["train"]["precision"] = "fp16"
    with pytest.raises(LssatError, match="fp16 needs a GPU"):
        train(validate_spec(tiny_spec), tmp_path / "fp16")


def test_components_of_every_kind_from_a_plugin_train_end_to_end(tmp_path, every_kind):
    summary = train(validate_spec(plugin_spec(), manager=every_kind), tmp_path / "run")
    assert summary["backbone"] == "tiny-conv" and summary["ssl"] == "patch-mean"
    records = read_jsonl(tmp_path / "run" / "metrics.jsonl")
    assert "train_loss_rec_gray" in records[0]
    assert records[-1]["val_acc"] == 1.0  # stripes are easy: the run really learns
    assert (tmp_path / "run" / "val_confusion.png").is_file()


def test_non_finite_loss_stops_with_a_clear_message(tmp_path, every_kind):
    spec = plugin_spec()
    spec["task"] = {"name": "nan-task"}
    with pytest.raises(TrainingError, match="non-finite loss at epoch 1, batch 0"):
        train(validate_spec(spec, manager=every_kind), tmp_path / "nan")


def test_plugin_commands_join_the_cli(every_kind, capsys):
    assert cli.main(["hello", "--name", "lssat"]) == 0
    assert capsys.readouterr().out.strip() == "hello lssat"


def test_predict_writes_one_row_of_scores_per_image(tmp_path, tiny_spec):
    from PIL import Image

    train(validate_spec(tiny_spec), tmp_path / "run")
    folder = tmp_path / "images"
    folder.mkdir()
    for i in range(3):
        Image.fromarray((torch.rand(40, 30, 3) * 255).byte().numpy()).save(folder / f"{i}.png")
    out = tmp_path / "predictions.csv"
    assert cli.main(["predict", str(folder), "--checkpoint", str(tmp_path / "run"), "--out", str(out)]) == 0
    rows = list(__import__("csv").DictReader(open(out)))
    assert [r["path"].split("/")[-1] for r in rows] == ["0.png", "1.png", "2.png"]
    assert all(0 <= float(r["p_fake"]) <= 1 and r["label"] in ("real", "fake") for r in rows)
    assert cli.main(["predict", str(folder), "--checkpoint", str(tmp_path / "nothing")]) == 2


def test_randaugment_and_resized_crop_keep_shape_and_range(tiny_spec):
    from lssat_framework.spec import TrainSpec
    from lssat_framework.train import augment

    spec = TrainSpec(epochs=1, batch_size=4, augment={"resized_crop": [0.5, 1.0], "randaugment": [2, 9], "flip": True})
    images = torch.rand(4, 3, 32, 32)
    out = augment(images, spec)
    assert out.shape == images.shape and out.min() >= 0 and out.max() <= 1
    assert not torch.equal(out, images)


def test_tensorboard_without_the_package_is_a_clear_error(tmp_path, tiny_spec):
    try:
        import tensorboard  # noqa: F401
    except ImportError:
        tiny_spec["train"]["tensorboard"] = True
        with pytest.raises(LssatError, match="pip install tensorboard"):
            train(validate_spec(tiny_spec), tmp_path / "tb")
    else:
        tiny_spec["train"]["tensorboard"] = True
        train(validate_spec(tiny_spec), tmp_path / "tb")
        assert any((tmp_path / "tb" / "tensorboard").rglob("events.out.tfevents.*"))
