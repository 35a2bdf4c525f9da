"""A sweep's jobs: the torch distributed environment inside a Slurm job, the status of requeued
and vanished jobs, a second launcher skipping the variants another process writes."""

import json


from lssat_framework import cli

from sweep_fakes import trainer, write_spec  # noqa: F401 - trainer is a fixture


DISTRIBUTED = ("MASTER_ADDR", "MASTER_PORT", "RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE", "ACCELERATE_USE_CPU", "CUDA_VISIBLE_DEVICES")


def test_a_slurm_job_of_several_tasks_exports_the_torch_distributed_environment(monkeypatch):
    """Issue 11: inside a job, rank, world size and master come from submitit's job environment,
    so accelerate sees an ordinary multi-process launch; every GPU of the node stays visible."""
    from lssat_framework.sweep.worker import export_distributed_environment

    for name in DISTRIBUTED:
        monkeypatch.setenv(name, "unset")  # recorded, so that whatever the export sets is undone
        monkeypatch.delenv(name)
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0,1,2,3")
    slurm = {"SUBMITIT_EXECUTOR": "slurm", "SLURM_JOB_ID": "77", "SLURM_NTASKS": "8", "SLURM_JOB_NUM_NODES": "2",
             "SLURM_NODEID": "1", "SLURM_JOB_NODELIST": "gpu[12-13]", "SLURM_PROCID": "5", "SLURM_LOCALID": "1"}
    for name, value in slurm.items():
        monkeypatch.setenv(name, value)
    export_distributed_environment()
    import os

    exported = {name: os.environ[name] for name in ("MASTER_ADDR", "RANK", "WORLD_SIZE", "LOCAL_RANK", "CUDA_VISIBLE_DEVICES")}
    assert exported == {"MASTER_ADDR": "gpu12", "RANK": "5", "WORLD_SIZE": "8", "LOCAL_RANK": "1", "CUDA_VISIBLE_DEVICES": "0,1,2,3"}
    assert os.environ["MASTER_PORT"].isdigit()


def test_status_reads_requeued_jobs_and_notices_a_vanished_process(tmp_path):
    from lssat_framework.sweep.state import mark_job, variant_status

    raw = {"train": {"epochs": 3}}
    requeued, vanished = tmp_path / "a", tmp_path / "b"
    for run_dir in (requeued, vanished):
        run_dir.mkdir()
        (run_dir / "metrics.jsonl").write_text(json.dumps({"epoch": 1, "val_auc": 0.61}) + "\n")
    mark_job(requeued, "running", job_id="5_0")
    mark_job(requeued, "requeued")
    status = variant_status(0, "a", requeued, raw, "auc")
    assert (status.state, status.epoch, status.epochs, status.value, status.job_id) == ("requeued", 1, 3, 0.61, "5_0")
    mark_job(vanished, "running")
    record = json.loads((vanished / "job.json").read_text())
    (vanished / "job.json").write_text(json.dumps({**record, "pid": 2**22 + 12345}))  # no such process
    status = variant_status(1, "b", vanished, raw, "auc")
    assert status.state == "failed" and "is gone" in status.error


def test_a_duplicate_launcher_skips_the_variants_another_process_writes(tmp_path, tiny_spec, trainer, capsys):
    """Issue 15: sweeps use the run lock per variant; a variant another process holds is skipped
    and reported, never run twice nor touched."""
    import subprocess
    import sys

    from lssat_framework.files.lock import RunLock

    fake = trainer()
    tiny_spec["sweep"] = {"backbone.params.depth": [1, 2]}
    path = write_spec(tmp_path, tiny_spec)
    out = tmp_path / "sweep"
    held = out / "backbone.depth=2"
    holder = subprocess.Popen([sys.executable, "-c", "import sys, time\nfrom lssat_framework.files.lock import RunLock\n"
                               f"lock = RunLock({str(held)!r}); lock.acquire(); print('held', flush=True); time.sleep(120)"],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        cli.main(["run", str(path), "--out", str(out)])
        said = capsys.readouterr().out
        assert fake.made == ["backbone.depth=1"]
        assert f"backbone.depth=2: being written by host" in said and f"pid {holder.pid}; skipped" in said
        assert not (held / "spec.yaml").exists()
    finally:
        holder.kill()
        holder.wait()
    with RunLock(held):  # the dead holder's lock is taken over
        pass
