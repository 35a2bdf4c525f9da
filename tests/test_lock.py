"""One writer per run directory (lssat_framework.files.lock)."""

import json
import os
import signal
import socket
import subprocess
import sys
import time

import pytest
import yaml

from lssat_framework.files.lock import HOLDER_FILE, LOCK_FILE, RunLock, RunLockedError, read_holder
from lssat_framework.spec import validate_spec
from lssat_framework.train import evaluate_checkpoint

from test_train import read_jsonl


def spec_file(tmp_path, tiny_spec, epochs=2):
    tiny_spec["data"]["params"].update(train=48, val=13)
    tiny_spec["train"].update(epochs=epochs, recon_grid=False, checkpoint_every=1)
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(tiny_spec))
    return path


def lssat(*args):
    return subprocess.Popen([sys.executable, "-m", "lssat_framework", *map(str, args)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_two_runs_started_together_on_one_directory_one_trains_the_other_is_refused(tmp_path, tiny_spec):
    """Two `lssat-run --out x` started together both ran to the end in the same directory:
    metrics.jsonl held every epoch twice."""
    path = spec_file(tmp_path, tiny_spec)
    first, second = lssat("run", path, "--out", tmp_path / "x"), lssat("run", path, "--out", tmp_path / "x")
    results = [(p.wait(timeout=300), *p.communicate()) for p in (first, second)]
    codes = sorted(code for code, _, _ in results)
    assert codes == [0, 2], results
    refused = next(err for code, _, err in results if code == 2)
    assert "being written by another process" in refused or "already holds a run" in refused, refused
    if "being written" in refused:
        assert socket.gethostname() in refused and "pid" in refused
    assert [r["epoch"] for r in read_jsonl(tmp_path / "x" / "metrics.jsonl")] == [1, 2]
    assert not (tmp_path / "x" / LOCK_FILE).exists()  # released at the end


def test_a_killed_writers_lock_is_taken_over_by_resume(tmp_path, tiny_spec):
    """A SIGKILL leaves the lock file behind; `--resume` takes it over with a warning."""
    path = spec_file(tmp_path, tiny_spec, epochs=3)
    out = tmp_path / "killed"
    process = lssat("run", path, "--out", out)
    deadline = time.time() + 120
    while time.time() < deadline and not (out / "checkpoints" / "last" / "trainer_state.json").exists():
        time.sleep(0.05)
    holder = read_holder(out)
    assert holder is not None and holder["pid"] == process.pid
    process.send_signal(signal.SIGKILL)
    process.wait()
    resumed = subprocess.run([sys.executable, "-m", "lssat_framework", "run", str(path), "--out", str(out), "--resume"], capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    assert f"taking over the lock of {out}" in resumed.stderr and f"pid {process.pid}" in resumed.stderr
    assert [r["epoch"] for r in read_jsonl(out / "metrics.jsonl")] == [1, 2, 3]


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


def test_eval_reads_a_run_while_it_trains(tmp_path, tiny_spec):
    """Readers never need the lock: `lssat eval` reads what the writer has committed."""
    path = spec_file(tmp_path, tiny_spec, epochs=4)
    out = tmp_path / "busy"
    process = lssat("run", path, "--out", out)
    try:
        deadline = time.time() + 120
        while time.time() < deadline and not (out / "checkpoints" / "best").exists():
            time.sleep(0.05)
        assert read_holder(out) is not None, "the run ended before it could be read"
        metrics = evaluate_checkpoint(validate_spec(yaml.safe_load(path.read_text())), out)
        assert metrics["count"] == 13
    finally:
        process.wait(timeout=300)
    assert process.returncode == 0
