"""The learning-rate schedule and the optimiser updates per epoch, in one and in two processes."""

import json

import pytest

from lssat_framework.spec import validate_spec
from lssat_framework.train import train

from test_train import read_jsonl, run_two_cpu_processes


def schedule_spec(tiny_spec, grad_accum):
    tiny_spec["data"]["params"].update(train=32, val=8)
    tiny_spec["train"].update(epochs=3, batch_size=4, lr=1.0e-3, warmup_epochs=1, grad_accum=grad_accum, recon_grid=False)
    return tiny_spec


@pytest.mark.parametrize("grad_accum", [1, 2])
def test_lr_per_epoch_is_the_same_for_one_and_two_processes(tmp_path, tiny_spec, grad_accum):
    """Issue 16 item 1: with N processes the schedule ran N times too fast (accelerate stepped the
    prepared scheduler once per process on every update, on a schedule already sized per process):
    lr 0.0 after epoch 1 of 2 under torchrun. The lr recorded per epoch, warm-up included, must not
    depend on the number of processes."""
    spec = schedule_spec(tiny_spec, grad_accum)
    run_two_cpu_processes(spec, tmp_path, tmp_path / "two")
    train(validate_spec(spec), tmp_path / "one")
    one = [r["lr"] for r in read_jsonl(tmp_path / "one" / "metrics.jsonl")]
    two = [r["lr"] for r in read_jsonl(tmp_path / "two" / "metrics.jsonl")]
    assert one == pytest.approx([1.0e-3, 0.5e-3, 0.0], abs=1e-12)  # end of warm-up, half-way down the cosine, the end
    assert two == pytest.approx(one, abs=1e-12)
    # two processes see half the batches each: half the updates per epoch
    steps_one = [r["step"] for r in read_jsonl(tmp_path / "one" / "metrics.jsonl")]
    steps_two = [r["step"] for r in read_jsonl(tmp_path / "two" / "metrics.jsonl")]
    assert steps_one == [8 // grad_accum * e for e in (1, 2, 3)]
    assert steps_two == [4 // grad_accum * e for e in (1, 2, 3)]


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
