"""``train.threads``: its default follows the cores this process may use, a spec value wins, each
job of the local launcher gets its share of the cores, and a run records the count it ran with."""

from __future__ import annotations

import json
import os

import pytest
import torch

from lssat_framework.spec.launcher import LauncherSpec
from lssat_framework.spec.schema import TrainSpec
from lssat_framework.sweep.launchers import LocalLauncher
from lssat_framework.testing import train_tiny
from lssat_framework.train import accelerator
from lssat_framework.train.accelerator import apply_threads, default_threads

THREAD_VARIABLES = ("OMP_NUM_THREADS", "LOCAL_WORLD_SIZE", "SLURM_CPUS_PER_TASK")


@pytest.fixture
def cores(monkeypatch):
    """Set how many cores this process may use (its affinity), with no thread variable set; the
    test's thread count is undone afterwards."""
    for name in THREAD_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    before = torch.get_num_threads()

    def allow(count: int) -> None:
        monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(count)), raising=False)

    yield allow
    torch.set_num_threads(before)


def test_the_default_is_the_affinity_shared_among_the_local_processes(cores, monkeypatch):
    cores(3)
    assert default_threads() == 3
    cores(8)
    monkeypatch.setenv("LOCAL_WORLD_SIZE", "2")
    assert default_threads() == 4
    monkeypatch.setenv("LOCAL_WORLD_SIZE", "16")
    assert default_threads() == 1  # never none
    monkeypatch.delenv("LOCAL_WORLD_SIZE")
    monkeypatch.setenv("SLURM_CPUS_PER_TASK", "2")
    assert default_threads() == 2  # Slurm's cores per task, where the affinity shows the whole job's


def test_omp_num_threads_is_the_default_where_set(cores, monkeypatch):
    cores(8)
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    assert default_threads() == 3


def test_a_spec_value_wins_and_is_applied(cores, monkeypatch):
    cores(2)
    monkeypatch.setenv("OMP_NUM_THREADS", "2")
    assert apply_threads(TrainSpec(epochs=1, batch_size=1, threads=1)) == 1
    assert torch.get_num_threads() == 1
    assert apply_threads(TrainSpec(epochs=1, batch_size=1)) == 2
    assert torch.get_num_threads() == 2


def test_more_threads_than_cores_is_said(cores, capsys, monkeypatch):
    cores(2)
    monkeypatch.setattr(accelerator, "_SAID", set())
    apply_threads(TrainSpec(epochs=1, batch_size=1, threads=3))
    assert "train.threads: 3 threads on the 2 core(s) this process may use" in capsys.readouterr().err


def test_threads_below_one_are_refused():
    with pytest.raises(ValueError, match="threads"):
        TrainSpec(epochs=1, batch_size=1, threads=0)


@pytest.mark.parametrize(("cores_here", "settings", "share"), [
    (2, dict(parallel=2), 1),  # cpus_per_task (4) would run 8 threads on 2 cores
    (2, dict(parallel=1), 2),
    (2, dict(parallel=3), 1),
    (64, dict(parallel=2), 4),  # at most cpus_per_task
    (64, dict(parallel=2, cpus_per_task=16), 16),
    (16, dict(parallel=2, gpus_per_node=2, cpus_per_task=8), 4),  # 4 processes
])
def test_the_local_launcher_gives_each_process_its_share(cores, tmp_path, cores_here, settings, share):
    cores(cores_here)
    assert LocalLauncher(LauncherSpec(**settings), tmp_path).threads_per_process() == share


def test_a_local_job_runs_with_its_share_in_its_environment(cores, tmp_path):
    pytest.importorskip("submitit")
    cores(2)
    executor = LocalLauncher(LauncherSpec(parallel=2), tmp_path)._executor()
    job = executor.submit(os.getenv, "OMP_NUM_THREADS")  # os.getenv: read in the job (os.environ.get would carry this process's mapping)
    assert job.result() == "1"


def test_a_run_records_its_threads(cores, tiny_spec, tmp_path):
    cores(2)
    tiny_spec["train"]["threads"] = 1
    summary = train_tiny(tiny_spec, tmp_path)
    records = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert [record["threads"] for record in records] == [1]
    assert summary["threads"] == [1]
    assert json.loads((tmp_path / "run" / "summary.json").read_text())["threads"] == [1]


def test_a_run_stored_before_threads_existed_resumes_and_a_changed_count_does_not(tmp_path):
    import copy

    import yaml

    from lssat_framework.spec.changes import RESOLVED_FILE, resolved_view, spec_differences
    from lssat_framework.spec.validation import validate_spec
    from lssat_framework.testing import TINY_SPEC

    view = resolved_view(validate_spec(copy.deepcopy(TINY_SPEC)))
    older = copy.deepcopy(view)
    del older["spec"]["train"]["threads"]  # as a run of an earlier version stored it
    (tmp_path / "spec.yaml").write_text(yaml.safe_dump(TINY_SPEC))
    (tmp_path / RESOLVED_FILE).write_text(json.dumps(older))
    assert spec_differences(tmp_path, copy.deepcopy(TINY_SPEC), view) == []
    changed = copy.deepcopy(TINY_SPEC)
    changed["train"]["threads"] = 1
    assert spec_differences(tmp_path, changed, resolved_view(validate_spec(copy.deepcopy(changed)))) == ["train.threads"]
