"""The learning-rate schedule and the optimiser updates per epoch (in two processes:
test_two_processes.py)."""

import json

import pytest

from lssat_framework.spec import validate_spec
from lssat_framework.train import train

from test_train import read_jsonl


def schedule_spec(tiny_spec, grad_accum):
    tiny_spec["data"]["params"].update(train=32, val=8)
    tiny_spec["train"].update(epochs=3, batch_size=4, lr=1.0e-3, warmup_epochs=1, grad_accum=grad_accum, recon_grid=False)
    return tiny_spec


def test_a_partial_accumulation_window_is_applied_in_its_own_epoch(tmp_path, tiny_spec):
    """Issue 16 item 16: with grad_accum 2 and max_batches 3 the last, partial window of an epoch
    was applied in the next one (updates per epoch 1, 2, 1 instead of 2, 2, 2; final lr not 0)."""
    spec = schedule_spec(tiny_spec, grad_accum=2)
    spec["train"]["max_batches"] = 3
    train(validate_spec(spec), tmp_path / "run")
    records = read_jsonl(tmp_path / "run" / "metrics.jsonl")
    assert [r["step"] for r in records] == [2, 4, 6]
    assert records[-1]["lr"] == pytest.approx(0.0, abs=1e-12)
    state = json.loads((tmp_path / "run" / "checkpoints" / "last" / "trainer_state.json").read_text())
    assert state["step"] == 6
