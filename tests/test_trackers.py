"""Issue 27: `train.trackers` logs a run to TensorBoard, MLflow and W&B (offline here), and what
each logged is read back and compared with `metrics.jsonl`: every epoch's record, every step's
losses, the resolved spec as config, the reconstruction grid; all inside the run folder."""

import importlib.util
import json
import struct

import pytest

from lssat_framework.errors import LssatError
from lssat_framework.spec import validate_spec
from lssat_framework.train import train
from lssat_framework.train.rundir import read_metrics

#: found, not imported: importing the three costs each test worker 2 s (mlflow alone 1.2 s) at
#: collection, where only the worker that runs this file needs them
MISSING = [name for name in ("tensorboard", "mlflow", "wandb") if importlib.util.find_spec(name) is None]
pytestmark = pytest.mark.skipif(bool(MISSING), reason=f"needs {', '.join(MISSING)} (pip install 'lssat-framework[test]')")


def wandb_records(path):
    """The protobuf records of a W&B run file (``run-<id>.wandb``: a 7-byte header, then LevelDB's
    log format: 32 KiB blocks of records, each a CRC, a length, a type and its bytes)."""
    from wandb.proto import wandb_internal_pb2

    data, block, records, pending = path.read_bytes(), 32768, [], b""
    offset = 7
    while offset + 7 <= len(data):
        if block - offset % block < 7:  # a block's tail too short for a header is padding
            offset += block - offset % block
            continue
        length, kind = struct.unpack("<HB", data[offset + 4: offset + 7])
        pending += data[offset + 7: offset + 7 + length]
        offset += 7 + length
        if kind in (1, 4):  # FULL or LAST: a whole record
            record = wandb_internal_pb2.Record()
            record.ParseFromString(pending)
            records.append(record)
            pending = b""
        elif kind == 0:
            break
    return records


@pytest.fixture
def logged(tiny_spec, tmp_path, monkeypatch):
    """A tiny run of 2 epochs of 2 steps logged to the three trackers, from another working folder."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_SILENT", "true")
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    tiny_spec["train"].update(epochs=2, max_batches=2, trackers=["tensorboard", "mlflow", "wandb"])
    run = tmp_path / "run"
    train(validate_spec(tiny_spec), run)
    assert not list(elsewhere.iterdir())  # nothing written outside the run folder
    return run, read_metrics(run / "metrics.jsonl")


def test_every_tracker_gets_every_epochs_record_each_steps_losses_the_config_and_the_grid(logged):
    from mlflow.tracking import MlflowClient
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    run, records = logged
    assert [r["step"] for r in records] == [2, 4]
    assert not [p for p in run.rglob("*") if p.is_symlink()]  # W&B's links removed: the folder can be resumed
    # TensorBoard's event files
    events = EventAccumulator(str(run / "tensorboard" / "tiny"), size_guidance={"scalars": 0, "images": 0})
    events.Reload()
    for key in ("val_auc", "train_loss", "train_loss_rec_ldp", "lr"):
        assert [(e.step, pytest.approx(e.value, rel=1e-6, abs=1e-7)) for e in events.Scalars(key)] == [(r["step"], r[key]) for r in records]
    assert [e.step for e in events.Scalars("step/loss")] == [1, 2, 3, 4]
    assert [e.step for e in events.Images("reconstruction")] == [2, 4]
    # MLflow's store in the run folder, through its client
    client = MlflowClient(tracking_uri=f"sqlite:///{run / 'mlflow.db'}")
    (found,) = client.search_runs([e.experiment_id for e in client.search_experiments()])
    for key in ("val_auc", "train_loss_task", "step_time_s"):
        history = sorted(client.get_metric_history(found.info.run_id, key), key=lambda m: m.step)
        assert [(m.step, m.value) for m in history] == [(r["step"], pytest.approx(r[key])) for r in records]
    assert len(client.get_metric_history(found.info.run_id, "step/loss")) == 4
    assert found.data.params["train.lr"] == "0.001" and found.data.params["backbone.name"] == "vit_tiny_patch16_224"
    # W&B's offline run file
    (wandb_file,) = run.glob("wandb/offline-run-*/run-*.wandb")
    history = [{i.key or "/".join(i.nested_key): json.loads(i.value_json) for i in r.history.item}
               for r in wandb_records(wandb_file) if r.WhichOneof("record_type") == "history"]
    epochs = [h for h in history if "val_auc" in h]
    assert [(h["_step"], h["val_auc"], h["train_loss"]) for h in epochs] == [(r["step"], pytest.approx(r["val_auc"]), pytest.approx(r["train_loss"])) for r in records]
    config = {i.key or "/".join(i.nested_key): json.loads(i.value_json)
              for r in wandb_records(wandb_file) if r.WhichOneof("record_type") == "config" for i in r.config.update}
    assert config["train.epochs"] in (2, {"value": 2}) and config["backbone.name"] in ("vit_tiny_patch16_224", {"value": "vit_tiny_patch16_224"})
    assert len(list(run.glob("wandb/offline-run-*/files/media/images/reconstruction_*.png"))) == 2


def test_a_tracker_without_its_package_is_one_clear_error_naming_its_extra(tiny_spec, tmp_path, monkeypatch):
    monkeypatch.setattr("accelerate.utils.is_mlflow_available", lambda: False)
    tiny_spec["train"]["trackers"] = ["mlflow"]
    with pytest.raises(LssatError, match=r"pip install mlflow, or pip install 'lssat-framework\[mlflow\]'"):
        train(validate_spec(tiny_spec), tmp_path / "run")


def test_the_trackers_are_accelerates_and_tensorboard_true_is_still_tensorboard():
    from accelerate.utils import LoggerType

    from lssat_framework.spec.schema import TRACKERS, TrainSpec
    from lssat_framework.train.trackers import trackers_of

    assert set(TRACKERS.__args__) == {t.value for t in LoggerType} - {"all"}
    assert trackers_of(TrainSpec(epochs=1, batch_size=1, tensorboard=True)) == ["tensorboard"]
    assert trackers_of(TrainSpec(epochs=1, batch_size=1, tensorboard=True, trackers=["tensorboard", "wandb"])) == ["tensorboard", "wandb"]
