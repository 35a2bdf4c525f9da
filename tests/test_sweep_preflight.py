"""Issue 25: nothing sure to fail is queued (a variant that cannot build, a missing `evaluate:`
root), a variant whose spec changed is `stale`, `launcher.tasks_per_node`, and `--wait`'s Ctrl-C.
The Slurm commands are stand-ins that record their calls: none may be made."""

import json
import os
import stat

import pytest
import yaml

from lssat_framework import cli
from lssat_framework.errors import LssatError


def stand_in_sinfo(bin_dir, nodes="debug*|64|256000"):
    """An sinfo that lists ``nodes`` (partition|CPUs|memory MB per line), whatever Slurm the host has."""
    path = bin_dir / "sinfo"
    path.write_text(f"#!/bin/sh\nprintf '{nodes}\\n'\n")
    path.chmod(path.stat().st_mode | stat.S_IEXEC)


@pytest.fixture
def stand_in_slurm(tmp_path, monkeypatch):
    """sbatch, srun and sacct that write their calls to the returned file, and an sinfo of one
    large node."""
    bin_dir, calls = tmp_path / "bin", tmp_path / "calls"
    bin_dir.mkdir()
    for name in ("sbatch", "srun", "sacct", "squeue", "scancel"):
        path = bin_dir / name
        path.write_text(f'#!/bin/sh\necho "{name} $*" >> "{calls}"\necho "Submitted batch job 7"\n')
        path.chmod(path.stat().st_mode | stat.S_IEXEC)
    stand_in_sinfo(bin_dir)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return calls


@pytest.mark.parametrize("launcher,problem", [
    ({}, "launcher.cpus_per_task: 4 CPUs, but the largest node of the default partition has 2; Slurm would keep the jobs pending"),
    ({"cpus_per_task": 1, "tasks_per_node": 3}, "1 CPUs for each of 3 tasks (3 a node), but the largest node of the default partition has 2"),
    ({"partition": "big", "cpus_per_task": 8, "mem_gb": 64}, "launcher.mem_gb: 64 GB, but the largest node of partition big has 31.2 GB"),
])
def test_a_job_larger_than_any_node_of_its_partition_is_refused_before_it_is_queued(tmp_path, tiny_spec, stand_in_slurm, launcher, problem, capsys):
    """A 2-core partition and the default 4 CPUs a task: the array stayed PENDING (PartitionConfig)
    while `--wait` waited for ever."""
    stand_in_sinfo(tmp_path / "bin", "debug*|2|4000\\nbig|2|4000\\nbig|16|32000")
    tiny_spec["sweep"] = {"seed": [0, 1]}
    tiny_spec["launcher"] = launcher
    assert cli.main(["sweep", write(tmp_path, tiny_spec), "--out", str(tmp_path / "out"), "--launcher", "slurm"]) == 2
    assert problem in capsys.readouterr().err
    assert not stand_in_slurm.exists()


def write(tmp_path, spec):
    path = tmp_path / "sweep.yaml"
    path.write_text(yaml.safe_dump(spec))
    return str(path)


def test_a_variant_that_cannot_build_is_refused_before_any_job_is_submitted(tmp_path, tiny_spec, stand_in_slurm, capsys):
    """A 32 px ResNet-18 gives MAE a 1×1 patch grid: it was queued and failed in its job."""
    tiny_spec["sweep"] = {"backbone": {"vit": {"backbone.params.depth": 1}, "resnet": {"backbone": {"name": "resnet18"}}}}
    out = tmp_path / "out"
    assert cli.main(["sweep", write(tmp_path, tiny_spec), "--out", str(out), "--launcher", "slurm"]) == 2
    err = capsys.readouterr().err
    assert "sweep[backbone=resnet] ssl.params: MAE needs a patch grid of at least 2 patches" in err
    assert "backbone=vit" not in err  # the variant that builds is not named
    assert not stand_in_slurm.exists() and not (out / "sweep.json").exists()


def test_validate_build_names_the_variant_that_cannot_build_as_the_sweep_does(tmp_path, tiny_spec, capsys):
    tiny_spec["sweep"] = {"backbone": {"vit": {"backbone.params.depth": 1}, "resnet": {"backbone": {"name": "resnet18"}}}}
    assert cli.main(["validate", write(tmp_path, tiny_spec), "--build"]) == 2
    err = capsys.readouterr().err
    assert "sweep[backbone=resnet] ssl.params: MAE needs a patch grid of at least 2 patches" in err and "backbone=vit" not in err


def test_a_missing_evaluate_root_is_refused_before_any_job_is_submitted(tmp_path, tiny_spec, stand_in_slurm, capsys):
    missing = tmp_path / "no-such-test-set"
    tiny_spec["sweep"] = {"seed": [0, 1]}
    tiny_spec["evaluate"] = [{"name": "image-folder", "params": {"root": str(missing)}, "label": "held-out"}]
    out = tmp_path / "out"
    assert cli.main(["sweep", write(tmp_path, tiny_spec), "--out", str(out), "--launcher", "slurm"]) == 2
    err = capsys.readouterr().err
    assert "evaluate[0] (held-out)" in err and str(missing) in err and "nothing was launched" in err
    assert not stand_in_slurm.exists()


def test_list_and_status_say_stale_for_a_variant_run_with_another_spec(tmp_path, tiny_spec, capsys):
    tiny_spec["data"]["params"].update(train=8, val=8)
    tiny_spec["train"]["recon_grid"] = False
    tiny_spec["sweep"] = {"seed": [0]}
    spec, out = write(tmp_path, tiny_spec), str(tmp_path / "out")
    assert cli.main(["sweep", spec, "--out", out]) == 0
    capsys.readouterr()
    assert cli.main(["sweep", spec, "--out", out, "--set", "train.epochs=2", "--list"]) == 0
    listed = capsys.readouterr().out
    assert listed.splitlines()[1].split() == ["0", "seed=0", "stale"] and listed.splitlines()[-1] == "1 stale"
    assert cli.main(["sweep", spec, "--out", out, "--set", "train.epochs=2", "--status"]) == 0
    row = capsys.readouterr().out.splitlines()[1]
    assert " stale " in row and "train.epochs" in row and "--rerun-changed" in row and "failed" not in row
    assert cli.main(["sweep", spec, "--out", out, "--status"]) == 0  # the spec it ran with: done
    assert "1 done" in capsys.readouterr().out


@pytest.mark.parametrize("launcher, problem", [
    ({"gpus_per_node": 2, "tasks_per_node": 4}, "tasks_per_node: 4 with gpus_per_node: 2"),
    ({"gpus_per_node": 4, "tasks_per_node": 1}, "tasks_per_node: 1 with gpus_per_node: 4"),
    ({"tasks_per_node": 0}, "launcher.tasks_per_node"),
])
def test_tasks_per_node_is_refused_where_it_cannot_run(tmp_path, tiny_spec, launcher, problem, capsys):
    tiny_spec["launcher"] = launcher
    assert cli.main(["validate", write(tmp_path, tiny_spec)]) == 2
    assert problem in capsys.readouterr().err


def test_tasks_per_node_gives_a_cpu_job_several_processes_and_follows_the_gpus_by_default(tmp_path):
    from lssat_framework.spec.launcher import LauncherSpec
    from lssat_framework.sweep.launchers import SlurmLauncher

    def tasks(**settings):
        return SlurmLauncher(LauncherSpec(**settings), tmp_path).parameters()["tasks_per_node"]

    assert (tasks(), tasks(tasks_per_node=2), tasks(gpus_per_node=4), tasks(gpus_per_node=2, tasks_per_node=2)) == (1, 2, 4, 2)


def test_ctrl_c_while_waiting_leaves_the_jobs_and_says_how_to_follow_and_cancel_them(tmp_path, monkeypatch, capsys):
    from lssat_framework.sweep import launch

    out = tmp_path / "out"
    for name, job_id in (("a", "41_0"), ("b", "41_1")):
        (out / name).mkdir(parents=True)
        (out / name / "submission.json").write_text(json.dumps({"launcher": "slurm", "job_id": job_id}))
    grid = [{"index": i, "name": name, "choice": {}, "raw": {"train": {"epochs": 1}}, "headline": "auc"} for i, name in enumerate("ab")]
    (out / "sweep.json").write_text(json.dumps({"name": "x", "axes": {}, "variants": grid}))

    def interrupt(seconds):
        raise KeyboardInterrupt

    monkeypatch.setattr(launch.time, "sleep", interrupt)
    monkeypatch.setattr("lssat_framework.sweep.launchers.slurm_states", lambda ids: {job: "RUNNING" for job in ids})
    with pytest.raises(KeyboardInterrupt):
        launch.wait_for_jobs(out, ["a", "b"], "lssat sweep s.yaml --out out")
    err = capsys.readouterr().err
    assert "the jobs go on" in err and "`lssat sweep s.yaml --out out --status`" in err and "`scancel 41`" in err


def test_wait_returns_the_variants_that_ended_without_a_result(tmp_path, monkeypatch):
    from lssat_framework.sweep import launch

    out = tmp_path / "out"
    (out / "a").mkdir(parents=True)
    (out / "a" / "job.json").write_text(json.dumps({"state": "failed", "error": "non-finite loss", "job_id": "5_0"}))
    (out / "sweep.json").write_text(json.dumps({"name": "x", "axes": {}, "variants": [{"index": 0, "name": "a", "choice": {}, "raw": {}}]}))
    monkeypatch.setattr("lssat_framework.sweep.launchers.slurm_states", lambda ids: {})
    assert launch.wait_for_jobs(out, ["a"], "lssat sweep s.yaml") == {"a": "non-finite loss"}


def test_a_job_that_cannot_validate_its_spec_where_it_runs_says_why_in_job_json(tmp_path, tiny_spec):
    """E.g. a plugin that the submitting machine has and the node has not: --status shows the reason,
    not only the scheduler's FAILED."""
    from lssat_framework.sweep.worker import VariantJob

    tiny_spec["backbone"] = {"name": "only-on-the-login-node"}
    with pytest.raises(LssatError):
        VariantJob(tiny_spec, "sweep.yaml", str(tmp_path / "v"))()
    job = json.loads((tmp_path / "v" / "job.json").read_text())
    assert job["state"] == "failed" and "unknown backbone 'only-on-the-login-node'" in job["error"] and "\n" not in job["error"]
