"""The cluster path on a real Slurm (issue 25): a one-node cluster that ``scripts/slurm-up.sh``
brings up (CI runs it first). A sweep as a job array with ``parallel`` respected, USR2 preemption
and its requeue, a variant that raises, an element cancelled with ``scancel``, and a two-process CPU
job, each checked against the real scheduler with tiny specs of a few seconds an epoch.

Skipped, with the reason, where ``sinfo`` does not answer; ``LSSAT_REQUIRE_SLURM=1`` (set by
``.ci/run``) makes that a failure instead, so that CI never passes by skipping them."""

import copy
import csv
import json
import os
import re
import subprocess
import sys
import time

import pytest
import yaml

from lssat_framework import cli

pytestmark = pytest.mark.slurm

#: fields of a metrics record that measure the machine, not the training
TIMING = {"images_per_s", "step_time_s", "peak_mem_mb"}


def _sinfo_problem() -> str | None:
    try:
        answer = subprocess.run(["sinfo", "-h", "-o", "%T"], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.SubprocessError) as exc:
        return f"sinfo does not answer ({exc}); bring a cluster up with scripts/slurm-up.sh"
    if answer.returncode != 0 or not answer.stdout.strip():
        return f"sinfo does not answer ({answer.stderr.strip() or 'no partition'}); bring a cluster up with scripts/slurm-up.sh"
    return None


@pytest.fixture(autouse=True)
def slurm_cluster():
    problem = _sinfo_problem()
    if problem and os.environ.get("LSSAT_REQUIRE_SLURM") == "1":
        pytest.fail(problem)
    if problem:
        pytest.skip(problem)


def write_sweep(tmp_path, spec, sweep, epochs=2, train=24, **launcher):
    """A tiny sweep spec named after the test (its jobs' name in squeue), one core a job."""
    spec["name"] = tmp_path.name
    spec["data"]["params"].update(train=train, val=13)
    spec["train"].update(epochs=epochs, recon_grid=False)
    spec["sweep"] = sweep
    spec["launcher"] = {"cpus_per_task": 1, "timeout_min": 10, **launcher}
    path = tmp_path / f"{tmp_path.name}.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


def sweep(spec_path, out, *extra):
    command = [sys.executable, "-m", "lssat_framework", "sweep", str(spec_path), "--out", str(out), "--launcher", "slurm", *extra]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(process, timeout=420):
    out, err = process.communicate(timeout=timeout)
    return process.returncode, out, err


def read(path):
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def metrics(run_dir):
    return [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines() if line.strip()]


def status_table(spec_path, out, capsys):
    capsys.readouterr()
    assert cli.main(["sweep", str(spec_path), "--out", str(out), "--status"]) == 0
    return {line.split()[1]: line for line in capsys.readouterr().out.splitlines()[1:] if len(line.split()) > 2}


def queue(name):
    """(job id, state, reason) of each job or array element named ``name`` in squeue."""
    lines = subprocess.run(["squeue", "-h", "-r", "-n", name, "-o", "%i|%T|%r"], capture_output=True, text=True, timeout=30).stdout
    return [tuple(line.split("|")) for line in lines.splitlines() if line.strip()]


def wait_until(condition, timeout, what):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"{what} within {timeout} s; squeue: {queue('')}")


def test_a_sweep_is_one_job_array_that_never_runs_more_elements_than_parallel(tmp_path, tiny_spec, capsys):
    """Two variants with parallel 1 on a node with two cores: if the array's %1 were lost, Slurm
    would run both at once."""
    spec_path = write_sweep(tmp_path, tiny_spec, {"seed": [0, 1]}, parallel=1)
    out = tmp_path / "out"
    process = sweep(spec_path, out, "--wait")
    most, reasons, statuses = 0, set(), set()
    while process.poll() is None:
        jobs = queue(tmp_path.name)
        most = max(most, sum(state == "RUNNING" for _, state, _ in jobs))
        reasons |= {reason for _, state, reason in jobs if state == "PENDING"}
        if "running" not in statuses and any(state == "RUNNING" for _, state, _ in jobs):
            statuses |= {line.split()[2] for line in status_table(spec_path, out, capsys).values()}
        time.sleep(0.2)
    code, output, err = finish(process)
    assert code == 0, err[-3000:]
    assert most == 1 and "JobArrayTaskLimit" in reasons, (most, reasons)
    assert "running" in statuses
    ids = [read(out / f"seed={seed}" / "submission.json")["job_id"] for seed in (0, 1)]
    assert ids[0].split("_")[1:] == ["0"] and ids[1] == ids[0].split("_")[0] + "_1"
    rows = status_table(spec_path, out, capsys)
    assert all(" done " in rows[f"seed={seed}"] and ids[seed] in rows[f"seed={seed}"] for seed in (0, 1))
    assert "[0] seed=0: done" in output and "[1] seed=1: done" in output


def test_usr2_during_epoch_2_requeues_the_element_and_it_ends_as_an_untouched_run(tmp_path, tiny_spec):
    """Both variants are the same run (``checkpoint_every`` changes no result): one is sent USR2
    inside its second epoch, after a checkpoint at its 4th batch, and must requeue, resume from
    that checkpoint and write the untouched one's metrics epoch by epoch."""
    spec_path = write_sweep(tmp_path, tiny_spec, {"train.checkpoint_every": [4, 1000]}, epochs=3, train=96, parallel=2)
    out = tmp_path / "out"
    process = sweep(spec_path, out, "--wait")
    stopped, untouched = out / "train.checkpoint_every=4", out / "train.checkpoint_every=1000"

    def inside_epoch_2():
        job, state = read(stopped / "job.json"), read(stopped / "checkpoints" / "last" / "trainer_state.json")
        return job if job and job.get("state") == "running" and state and state["epoch"] == 1 and state["batch"] >= 1 else None

    job = wait_until(inside_epoch_2, 300, "the variant never checkpointed inside its second epoch")
    subprocess.run(["scancel", "--signal=USR2", job["job_id"]], check=True, timeout=30)
    signalled = time.time()
    resumed = wait_until(lambda: (job := read(stopped / "job.json") or {}).get("attempt") == 2 and job, 400, "the requeued job never ran again")
    print(f"requeued element ran again {time.time() - signalled:.0f} s after USR2")
    code, _, err = finish(process)
    assert code == 0, err[-3000:]
    assert resumed["resumed"] is True and read(stopped / "job.json")["state"] == "done"
    # the requeued job went on inside epoch 2, from the checkpoint of a batch there: not from scratch, not from the epoch's start
    logs = "".join(path.read_text() for path in (out / ".submitit" / job["job_id"]).glob("*_log.out"))
    assert re.search(r"resuming \S+ at epoch 2, batch [1-9]", logs), logs[-2000:]
    got, want = metrics(stopped), metrics(untouched)
    assert [record["epoch"] for record in got] == [1, 2, 3]
    for record, reference in zip(got, want):
        assert {k: v for k, v in record.items() if k not in TIMING} == {k: v for k, v in reference.items() if k not in TIMING}


def test_a_variant_that_raises_is_failed_with_its_error_everywhere_and_the_other_finishes(tmp_path, tiny_spec, capsys):
    spec_path = write_sweep(tmp_path, tiny_spec, {"train.lr": [1.0e-3, 1.0e30]}, parallel=2)
    out = tmp_path / "out"
    code, _, err = finish(sweep(spec_path, out, "--wait"))
    assert code == 2 and "1 of 2 variants failed" in err and "non-finite loss" in err, err[-3000:]
    failed, finished = "train.lr=1e+30", "train.lr=0.001"
    rows = status_table(spec_path, out, capsys)
    assert " failed " in rows[failed] and "non-finite loss at epoch 1" in rows[failed] and " done " in rows[finished]
    job = read(out / failed / "job.json")
    assert job["state"] == "failed" and job["error"].startswith("non-finite loss at epoch 1")
    with open(out / "leaderboard.csv") as handle:
        board = {row["variant"]: row for row in csv.DictReader(handle)}
    assert board[failed]["state"] == "failed" and board[failed]["error"] == job["error"] and board[finished]["state"] == "done"
    assert f"- {failed}: failed (non-finite loss at epoch 1" in (out / "leaderboard.md").read_text()
    assert f"- {failed}: failed (non-finite loss at epoch 1" in (out / "answers.md").read_text()


def test_a_cancelled_element_says_cancelled_and_resumes_when_the_sweep_is_launched_again(tmp_path, tiny_spec, capsys):
    # epochs enough that the job cannot finish before scancel stops it: on a quiet machine an epoch
    # takes about 1 s, and srun waited 7 s for the step to end after the cancel (6 epochs finished)
    spec_path = write_sweep(tmp_path, tiny_spec, {"seed": [0]}, epochs=30, train=192)
    out, run_dir = tmp_path / "out", tmp_path / "out" / "seed=0"
    code, _, err = finish(sweep(spec_path, out))
    assert code == 0, err[-3000:]
    wait_until(lambda: (read(run_dir / "checkpoints" / "last" / "trainer_state.json") or {}).get("epoch") == 1, 300,
               "the variant never finished its first epoch")
    job_id = read(run_dir / "submission.json")["job_id"]
    subprocess.run(["scancel", job_id], check=True, timeout=30)
    wait_until(lambda: not queue(tmp_path.name), 120, "the cancelled job never left the queue")

    def cancelled():
        row = status_table(spec_path, out, capsys)["seed=0"]
        return row if " cancelled " in row else None

    row = wait_until(cancelled, 120, "--status never said cancelled")
    assert job_id in row and "scancel" in row
    assert not (run_dir / "summary.json").exists()

    code, output, err = finish(sweep(spec_path, out, "--wait"))
    assert code == 0, err[-3000:]
    assert "seed=0: resuming" in output
    assert read(run_dir / "job.json")["resumed"] is True
    again = read(run_dir / "submission.json")["job_id"]
    logs = "".join(path.read_text() for path in (out / ".submitit" / again).glob("*_log.out"))
    assert again != job_id and re.search(r"resuming \S+ at epoch ([2-9]|[12][0-9]), batch 0", logs), logs[-2000:]
    assert [record["epoch"] for record in metrics(run_dir)] == list(range(1, 31))  # every epoch once: none lost, none twice


def test_a_two_process_cpu_job_has_one_writer_and_the_schedule_and_evaluation_of_one_process(tmp_path, tiny_spec):
    """launcher.tasks_per_node: 2 on a CPU node: two gloo processes train one variant."""
    runs = {}
    for tasks in (1, 2):
        folder = tmp_path / f"tasks{tasks}"
        folder.mkdir()
        spec_path = write_sweep(folder, copy.deepcopy(tiny_spec), {"seed": [0]}, tasks_per_node=tasks)
        runs[tasks] = (folder / "out", sweep(spec_path, folder / "out", "--wait"))
    for tasks, (out, process) in runs.items():
        code, _, err = finish(process)
        assert code == 0, f"{tasks} tasks: {err[-3000:]}"
    one, two = (runs[tasks][0] / "seed=0" for tasks in (1, 2))
    assert read(two / "environment.json")["devices"]["processes"] == 2
    assert read(one / "environment.json")["devices"]["processes"] == 1
    job_folder = runs[2][0] / ".submitit" / read(two / "submission.json")["job_id"]
    assert len(list(job_folder.glob("*_log.out"))) == 2  # srun started two tasks
    single, double = metrics(one), metrics(two)
    assert [r["epoch"] for r in double] == [1, 2]  # one writer: each epoch written once
    assert [r["lr"] for r in double] == pytest.approx([r["lr"] for r in single])
    assert [r["val_count"] for r in double] == [r["val_count"] for r in single] == [13, 13]
    assert read(two / "job.json")["state"] == "done"
