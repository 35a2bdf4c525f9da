"""One writer per run directory (lssat_framework.files.lock), and real ``lssat run`` processes
around it: started together, read while one trains, killed and resumed."""

import contextlib
import copy
import io
import json
import os
import signal
import socket
import subprocess
import sys
import time
import types
from concurrent.futures import ThreadPoolExecutor

import pytest
import yaml

from lssat_framework.files.lock import HOLDER_FILE, LOCK_FILE, RunLock, RunLockedError, read_holder
from lssat_framework.spec import validate_spec
from lssat_framework.testing import TINY_SPEC
from lssat_framework.train import evaluate_checkpoint

from test_train import read_jsonl

TIMING = {"images_per_s", "step_time_s", "peak_mem_mb"}


#: one thread each: the runs of this module train side by side
ONE_THREAD = {**os.environ, "OMP_NUM_THREADS": "1"}


def lssat(*args, output=subprocess.PIPE):
    return subprocess.Popen([sys.executable, "-m", "lssat_framework", *map(str, args)], stdout=output, stderr=output, text=True, env=ONE_THREAD)


def wait_until(condition, processes, timeout_s=300):
    """Poll ``condition`` until it holds (True) or the ``processes`` have all ended (False)."""
    deadline = time.time() + timeout_s
    while not condition():
        if all(p.poll() is not None for p in processes) or time.time() > deadline:
            return False
        time.sleep(0.02)
    return True


def read_while_it_trains(spec, run, writers):
    """The holder of ``run``'s lock and ``lssat eval``'s metrics, read once its first best
    checkpoint is committed; (None, None) if the writers end first."""
    if not wait_until(lambda: (run / "checkpoints" / "best").exists(), writers):
        return None, None
    holder = read_holder(run)
    return holder, evaluate_checkpoint(validate_spec(spec), run)


def finish(process):
    out, err = process.communicate(timeout=300)
    return process.returncode, out, err


def trainer_state(run):
    try:
        return json.loads((run / "checkpoints" / "last" / "trainer_state.json").read_text())
    except (OSError, ValueError):
        return None


def resume_here(spec_path, run):
    """``lssat run SPEC --out RUN --resume`` in this process, one thread as the runs above: its
    exit status and what it wrote on stderr."""
    from lssat_framework import cli

    stderr, threads = io.StringIO(), os.environ.get("OMP_NUM_THREADS")
    os.environ["OMP_NUM_THREADS"] = "1"
    try:
        with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(io.StringIO()):
            status = cli.main(["run", str(spec_path), "--out", str(run), "--resume"])
    finally:
        if threads is None:
            del os.environ["OMP_NUM_THREADS"]
        else:
            os.environ["OMP_NUM_THREADS"] = threads
    return types.SimpleNamespace(returncode=status, stderr=stderr.getvalue())


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Three runs of one spec started together, shared by the tests below (each run costs a new
    interpreter): two on the directory ``together`` (one trains, one is refused), read by
    ``lssat eval`` while it trains; one killed in the middle of its second epoch, and resumed here."""
    folder = tmp_path_factory.mktemp("runs")
    spec = copy.deepcopy(TINY_SPEC)
    spec["data"]["params"].update(train=48, val=13)
    spec["train"].update(epochs=3, checkpoint_every=1, recon_grid=False, augment={"flip": True, "resized_crop": [0.7, 1.0]})
    spec["backbone"]["params"]["drop_path_rate"] = 0.1  # randomness that the RNG state must restore
    spec_path = folder / "spec.yaml"
    spec_path.write_text(yaml.safe_dump(spec))
    together, killed = folder / "together", folder / "killed"
    pair = [lssat("run", spec_path, "--out", together) for _ in range(2)]
    victim = lssat("run", spec_path, "--out", killed, output=subprocess.DEVNULL)

    # a reader (in a thread: the kill below must not wait for it) while the writer goes on
    with ThreadPoolExecutor(1) as pool:
        reading = pool.submit(read_while_it_trains, spec, together, pair)
        wait_until(lambda: (state := trainer_state(killed)) is not None and state["epoch"] == 1 and state["batch"] >= 1, [victim])
        holder_when_killed = read_holder(killed)
        victim.send_signal(signal.SIGKILL)
        victim.wait()
        summary_when_killed = (killed / "summary.json").exists()
        holder_while_read, read = reading.result()
    ended = [finish(p) for p in pair]
    resumed = resume_here(spec_path, killed)
    return types.SimpleNamespace(
        together=together, pair=ended, holder_while_read=holder_while_read, read=read,
        killed=killed, victim_pid=victim.pid, holder_when_killed=holder_when_killed, summary_when_killed=summary_when_killed, resumed=resumed)


def test_two_runs_started_together_on_one_directory_one_trains_the_other_is_refused(runs):
    """Two `lssat-run --out x` started together both ran to the end in the same directory:
    metrics.jsonl held every epoch twice."""
    codes = sorted(code for code, _, _ in runs.pair)
    assert codes == [0, 2], runs.pair
    refused = next(err for code, _, err in runs.pair if code == 2)
    assert "being written by another process" in refused or "already holds a run" in refused, refused
    if "being written" in refused:
        assert socket.gethostname() in refused and "pid" in refused
    assert [r["epoch"] for r in read_jsonl(runs.together / "metrics.jsonl")] == [1, 2, 3]
    assert not (runs.together / LOCK_FILE).exists()  # released at the end


def test_eval_reads_a_run_while_it_trains(runs):
    """Readers never need the lock: `lssat eval` reads what the writer has committed."""
    assert runs.holder_while_read is not None, "the run ended before it could be read"
    assert runs.read["count"] == 13
    assert 0 in [code for code, _, _ in runs.pair]  # the writer, read meanwhile, ended well


def test_a_killed_writers_lock_is_taken_over_by_resume(runs):
    """A SIGKILL leaves the lock file behind; `--resume` takes it over with a warning."""
    assert runs.holder_when_killed is not None and runs.holder_when_killed["pid"] == runs.victim_pid
    assert runs.resumed.returncode == 0, runs.resumed.stderr
    assert f"taking over the lock of {runs.killed}" in runs.resumed.stderr and f"pid {runs.victim_pid}" in runs.resumed.stderr
    assert [r["epoch"] for r in read_jsonl(runs.killed / "metrics.jsonl")] == [1, 2, 3]


def test_killed_run_resumes_to_the_same_final_metrics(runs):
    """Killed in the middle of its second epoch (augmentation and drop-path draw from the random
    generators the checkpoint restores), a resumed run ends as the uninterrupted run does."""
    assert not runs.summary_when_killed, "the run ended before it could be killed"
    assert runs.resumed.returncode == 0, runs.resumed.stderr
    expected = json.loads((runs.together / "summary.json").read_text())
    got = json.loads((runs.killed / "summary.json").read_text())
    assert got["final"] == expected["final"]
    assert got["best"] == expected["best"]
    strip = lambda rows: [{k: v for k, v in r.items() if k not in TIMING} for r in rows]  # noqa: E731
    assert strip(read_jsonl(runs.killed / "metrics.jsonl")) == strip(read_jsonl(runs.together / "metrics.jsonl"))


def write_holder(directory, host, heartbeat_age_s):
    directory.mkdir(parents=True, exist_ok=True)
    now = time.time()
    holder = {"host": host, "pid": 12345, "started": now - 3600, "heartbeat": now - heartbeat_age_s}
    (directory / HOLDER_FILE).write_text(json.dumps(holder))


def test_a_lock_from_another_host_is_taken_over_only_when_its_heartbeat_is_stale(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("LSSAT_LOCK_STALE_S", "60")
    write_holder(tmp_path / "fresh", "node-17", heartbeat_age_s=5)
    with pytest.raises(RunLockedError, match="host node-17, pid 12345"):
        RunLock(tmp_path / "fresh").acquire()
    write_holder(tmp_path / "stale", "node-17", heartbeat_age_s=120)
    with RunLock(tmp_path / "stale"):
        assert read_holder(tmp_path / "stale")["pid"] == os.getpid()
    assert "taking over the lock" in capsys.readouterr().err
    assert read_holder(tmp_path / "stale") is None


def test_a_second_lock_in_the_same_host_is_refused_and_released_on_error(tmp_path):
    with RunLock(tmp_path) as held:
        with pytest.raises(RunLockedError, match=f"pid {os.getpid()}"):
            RunLock(tmp_path).acquire()
        held.heartbeat()
    with pytest.raises(KeyError):
        with RunLock(tmp_path):
            raise KeyError("a user error inside the run")
    with RunLock(tmp_path):  # released by the error above
        pass


HOLD_THEN_RECORD = """
import fcntl, json, os, socket, sys, time
directory = sys.argv[1]
fd = os.open(os.path.join(directory, "writer.lock"), os.O_RDWR | os.O_CREAT)
fcntl.flock(fd, fcntl.LOCK_EX)
print("locked", flush=True)
time.sleep(0.5)  # the moment between a writer's flock and its record
record = {"host": socket.gethostname(), "pid": os.getpid(), "started": time.time(), "heartbeat": time.time()}
with open(os.path.join(directory, "writer.json"), "w") as f:
    json.dump(record, f)
time.sleep(3)
"""


def test_a_writer_refused_before_the_holder_wrote_its_record_still_names_the_holder(tmp_path):
    holder = subprocess.Popen([sys.executable, "-c", HOLD_THEN_RECORD, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(RunLockedError, match=f"pid {holder.pid},"):
            RunLock(tmp_path).acquire()
    finally:
        holder.kill()
        holder.wait()
    with RunLock(tmp_path):  # the kernel dropped the dead holder's flock
        assert read_holder(tmp_path)["pid"] == os.getpid()


@pytest.mark.parametrize("record", [
    {"host": "node-17", "pid": 1, "heartbeat": "soon"},  # not a time: float() raised
    {"host": "node-17", "pid": 1, "heartbeat": 1e300},  # no clock's time: the message's date raised
    {"host": "node-17", "pid": 1, "heartbeat": [1]},
    {"host": socket.gethostname(), "pid": "x", "heartbeat": None},
    {"host": socket.gethostname(), "pid": -1, "started": "?"},  # -1 asked whether any process lives
    {"host": socket.gethostname(), "pid": True},
])
def test_a_holders_record_from_elsewhere_that_holds_nonsense_is_a_dead_writers(tmp_path, record, capsys):
    """A run folder from another machine keeps the writer.json of a writer killed there; whatever
    it holds, --resume takes the lock over with a warning, never a traceback."""
    (tmp_path / HOLDER_FILE).write_text(json.dumps(record))
    with RunLock(tmp_path):
        assert read_holder(tmp_path)["pid"] == os.getpid()
    assert "taking over the lock" in capsys.readouterr().err
