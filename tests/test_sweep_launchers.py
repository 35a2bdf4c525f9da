"""The launchers for real: submitit's local executor (parallel variants, the time-limit requeue
path, a killed job resumed by the next launch) against the inline sweep of the same spec, and the
Slurm path through stand-in sbatch/srun/squeue/sacct/scancel executables."""

import csv
import json
import os
import signal
import stat
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import torch
import yaml

from lssat_framework import cli

TIMING = {"images_per_s", "peak_mem_mb"}


def results(out):
    with open(out / "leaderboard.csv") as handle:
        return {row["variant"]: {k: v for k, v in row.items() if k not in TIMING} for row in csv.DictReader(handle)}


def signal_each_mid_run(signals, launch_ended, deadline):
    """Send each variant's signal (``{run_dir: signal}``) to its training process once it has
    checkpointed inside its second epoch; the variants run side by side, so all are watched at once."""
    waiting = dict(signals)
    while waiting and time.time() < deadline and not launch_ended.is_set():
        for run_dir, signum in list(waiting.items()):
            job = read(run_dir / "job.json")
            state = read(run_dir / "checkpoints" / "last" / "trainer_state.json")
            if job and job.get("state") == "running" and state and state["epoch"] == 1 and state["batch"] >= 1:
                os.kill(job["pid"], signum)
                del waiting[run_dir]
        time.sleep(0.01)
    assert not waiting, f"{', '.join(d.name for d in waiting)} never reached the middle of its second epoch"


def read(path):
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def test_local_launcher_matches_inline_through_a_time_limit_requeue_and_a_kill(tmp_path, tiny_spec, capsys):
    """Issue 11: 2 variants at once through submitit's LocalExecutor. Variant 0 gets the
    time-limit signal (USR2, what the executor sends before its timeout) mid-epoch and resumes in
    its requeued job; variant 1's process is killed outright, marked failed, and resumes when the
    sweep is launched again. The leaderboard equals the inline sweep's, metric for metric; the two
    backbones are the same model under two names, so the answers call them not separable."""
    tiny_spec["data"]["params"].update(train=40, val=13)  # 5 batches: the second epoch is long enough to catch
    tiny_spec["train"].update(epochs=2, checkpoint_every=2, recon_grid=False)
    tiny_spec["sweep"] = {"backbone": {"a": {"backbone.params.depth": 1}, "b": {"backbone.params.depth": 1}}}
    spec_path = tmp_path / "sweep.yaml"
    spec_path.write_text(yaml.safe_dump(tiny_spec))
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        assert cli.main(["sweep", str(spec_path), "--out", str(tmp_path / "inline")]) == 0
    finally:
        torch.set_num_threads(threads)
    answers = (tmp_path / "inline" / "answers.md").read_text()
    assert "not separable at this size" in answers and "is the best on every task" not in answers

    out = tmp_path / "local"
    one_core = ["--set", "launcher.cpus_per_task=1"]  # one thread per job, as in the reference
    first, second = out / "backbone=a", out / "backbone=b"
    # the launch runs here (its jobs are processes of their own); a thread signals them meanwhile
    launch_ended = threading.Event()
    with ThreadPoolExecutor(1) as pool:
        signalling = pool.submit(signal_each_mid_run, {first: signal.SIGUSR2, second: signal.SIGKILL}, launch_ended, time.time() + 300)
        try:
            status = cli.main(["sweep", str(spec_path), "--out", str(out), "--launcher", "local", "--parallel", "2", *one_core])
        finally:
            launch_ended.set()
        signalling.result()
    err = capsys.readouterr().err
    assert status == 2, err[-3000:]
    assert "1 of 2 variants failed" in err and "backbone=b" in err
    requeued = read(first / "job.json")
    assert requeued["state"] == "done" and requeued["attempt"] == 2 and requeued["resumed"] is True

    capsys.readouterr()
    assert cli.main(["sweep", "status", str(out)]) == 0
    assert "1 done, 1 failed" in capsys.readouterr().out
    assert cli.main(["sweep", str(spec_path), "--out", str(out), "--launcher", "local", "--parallel", "2", *one_core]) == 0
    output = capsys.readouterr().out
    assert output.count("finished, skipped") == 1 and "backbone=b: resuming" in output
    assert results(out) == results(tmp_path / "inline")


STAND_INS = {
    "sbatch": 'cp "$1" "$LOG/script.sh"; echo "sbatch $*" >> "$LOG/calls"; echo "Submitted batch job 4242"',
    "srun": 'echo "srun $*" >> "$LOG/calls"',
    "squeue": 'echo "squeue $*" >> "$LOG/calls"; echo "JOBID STATE"',
    "scancel": 'echo "scancel $*" >> "$LOG/calls"',
    "sacct": 'echo "sacct $*" >> "$LOG/calls"; printf "JobID|State\\n4242_0|RUNNING\\n4242_1|OUT_OF_MEMORY\\n4242_[2-3%%2]|PENDING\\n"',
    "sinfo": 'printf "debug*|64|256000\\ngpu|64|256000\\n"',  # nodes large enough for the jobs, whatever Slurm the host has
}


def test_slurm_launcher_submits_one_array_and_status_reads_the_job_ids_back(tmp_path, tiny_spec, monkeypatch, capsys):
    """Issue 11: the sbatch script carries --array with the %N limit, the GPU, task, time and
    partition settings and the USR2 signal; the job ids and Slurm's states come back in --status."""
    bin_dir, log = tmp_path / "bin", tmp_path / "log"
    bin_dir.mkdir()
    log.mkdir()
    for name, body in STAND_INS.items():
        path = bin_dir / name
        path.write_text(f"#!/bin/sh\n{body}\n")
        path.chmod(path.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("LOG", str(log))
    tiny_spec["sweep"] = {"backbone.params.depth": [1, 2], "task.name": ["deepfake", "emotion"]}
    spec_path = tmp_path / "sweep.yaml"
    spec_path.write_text(yaml.safe_dump(tiny_spec))
    out = tmp_path / "out"
    settings = ["--set", "launcher.partition=gpu", "--set", "launcher.gpus_per_node=2", "--set", "launcher.timeout_min=30",
                "--set", "launcher.account=lab", "--set", "launcher.sbatch={mail-type: END}"]
    assert cli.main(["sweep", str(spec_path), "--out", str(out), "--launcher", "slurm", "--parallel", "2", *settings]) == 0
    assert "4 variants submitted to slurm" in capsys.readouterr().out
    script = (log / "script.sh").read_text()
    for line in ("--array=0-3%2", "--gpus-per-node=2", "--ntasks-per-node=2", "--time=30", "--partition=gpu",
                 "--account=lab", "--signal=USR2@120", "--mail-type=END", "--nodes=1"):
        assert f"#SBATCH {line}" in script, line
    assert "srun" in script and "submitit.core._submit" in script
    assert read(out / "backbone.depth=1__task=emotion" / "submission.json")["job_id"] == "4242_1"

    assert cli.main(["sweep", str(spec_path), "--out", str(out), "--status"]) == 0
    rows = {line.split()[1]: line for line in capsys.readouterr().out.splitlines()[1:5]}
    assert "running" in rows["backbone.depth=1__task=deepfake"] and "4242_0" in rows["backbone.depth=1__task=deepfake"]
    assert "failed" in rows["backbone.depth=1__task=emotion"] and "OUT_OF_MEMORY" in rows["backbone.depth=1__task=emotion"]
    assert "pending" in rows["backbone.depth=2__task=emotion"] and "4242_3" in rows["backbone.depth=2__task=emotion"]
    assert "sacct -o JobID,State --parsable2 -j 4242" in (log / "calls").read_text()
