"""Two CPU processes under torchrun (gloo), as a multi-GPU launch runs them: every validation
sample evaluated once, both processes' random generators saved and read back, the learning-rate
schedule as in one process. A launch starts three interpreters, so each is made once and read by
every test that needs it: the schedule's two accumulation settings are one launch of ``lssat run``
on a sweep over them, which trains both variants in the same two processes."""

import copy
import csv
import json
import os
import shutil
import subprocess
import sys
import types

import pytest
import yaml

from lssat_framework.spec import validate_spec
from lssat_framework.testing import TINY_SPEC
from lssat_framework.train import train

from test_schedule import schedule_spec
from test_train import read_jsonl


def run_two_cpu_processes(spec, folder, out, *extra):
    """``lssat run`` under torchrun: two CPU processes (gloo), as a multi-GPU launch runs."""
    spec_path = folder / "spec.yaml"
    spec_path.write_text(yaml.safe_dump(spec))
    env = {**os.environ, "ACCELERATE_USE_CPU": "1", "OMP_NUM_THREADS": "1"}
    # --standalone: the rendezvous on a port the system picks free, never one another test holds
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
               "-m", "lssat_framework", "run", str(spec_path), "--out", str(out), *extra]
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]


@pytest.fixture(scope="module")
def schedule_runs(tmp_path_factory):
    """``schedule_runs(grad_accum)``: the schedule's spec with ``train.grad_accum`` 1 and 2, both
    trained in two processes by one launch (an inline sweep over the two), and each in one process."""
    folder = tmp_path_factory.mktemp("schedule")
    spec = schedule_spec(copy.deepcopy(TINY_SPEC), 1)
    spec["data"]["params"]["val"] = 13  # batches of 4, the last of one: the processes' shares are uneven
    run_two_cpu_processes({**spec, "sweep": {"train.grad_accum": [1, 2]}}, folder, folder / "sweep")
    made = {}
    for grad_accum in (1, 2):
        two = folder / "sweep" / f"train.grad_accum={grad_accum}"
        variant = yaml.safe_load((two / "spec.yaml").read_text())  # the spec each variant ran, also for the resume
        assert variant["train"]["grad_accum"] == grad_accum and "sweep" not in variant
        one = train(validate_spec(variant), folder / f"one_{grad_accum}")
        made[grad_accum] = types.SimpleNamespace(spec=variant, folder=folder, two=two, one=folder / f"one_{grad_accum}", one_summary=one)
    return made.__getitem__


def test_a_sweep_under_torchrun_trains_every_variant_in_the_same_processes(schedule_runs):
    """The second variant of `torchrun ... lssat run SWEEP` failed: the first run's end destroyed
    the launch's process group ("Default process group has not been initialized")."""
    sweep = schedule_runs(1).folder / "sweep"
    with open(sweep / "leaderboard.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert sorted((r["variant"], r["state"]) for r in rows) == [("train.grad_accum=1", "done"), ("train.grad_accum=2", "done")]


def test_two_cpu_processes_evaluate_every_sample_exactly_once(schedule_runs):
    runs = schedule_runs(1)
    assert [record["val_count"] for record in read_jsonl(runs.two / "metrics.jsonl")] == [13, 13, 13]
    # each process saved its own random generators, and both read the checkpoint back
    last = runs.two / "checkpoints" / "last"
    assert (last / "rng_0.json").is_file() and (last / "rng_1.json").is_file()
    final = json.loads((runs.two / "summary.json").read_text())["final"]
    resumed = runs.folder / "resumed"
    shutil.copytree(runs.two, resumed)
    (resumed / "summary.json").unlink()
    run_two_cpu_processes(runs.spec, runs.folder, resumed, "--resume")
    assert json.loads((resumed / "summary.json").read_text())["final"] == final
    assert runs.one_summary["final"]["count"] == 13


@pytest.mark.parametrize("grad_accum", [1, 2])
def test_lr_per_epoch_is_the_same_for_one_and_two_processes(schedule_runs, grad_accum):
    """Issue 16 item 1: with N processes the schedule ran N times too fast (accelerate stepped the
    prepared scheduler once per process on every update, on a schedule already sized per process):
    lr 0.0 after epoch 1 of 2 under torchrun. The lr recorded per epoch, warm-up included, must not
    depend on the number of processes."""
    runs = schedule_runs(grad_accum)
    one = [r["lr"] for r in read_jsonl(runs.one / "metrics.jsonl")]
    two = [r["lr"] for r in read_jsonl(runs.two / "metrics.jsonl")]
    assert one == pytest.approx([1.0e-3, 0.5e-3, 0.0], abs=1e-12)  # end of warm-up, half-way down the cosine, the end
    assert two == pytest.approx(one, abs=1e-12)
    # two processes see half the batches each: half the updates per epoch
    steps_one = [r["step"] for r in read_jsonl(runs.one / "metrics.jsonl")]
    steps_two = [r["step"] for r in read_jsonl(runs.two / "metrics.jsonl")]
    assert steps_one == [8 // grad_accum * e for e in (1, 2, 3)]
    assert steps_two == [4 // grad_accum * e for e in (1, 2, 3)]
