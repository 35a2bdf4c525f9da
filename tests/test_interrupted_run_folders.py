"""What a full disk or a kill leaves in a run folder: a torn metrics line, a half-written
checkpoint, no checkpoint at all; the resumed run ends as the uninterrupted one, or starts over,
with one message. The lock holder's record never reads empty while it is rewritten."""

import os

import pytest

from lssat_framework.spec import validate_spec
from lssat_framework.train import train

from test_untrusted_run_folders import small_spec


class Stopped(BaseException):
    """Stands for the process dying: nothing after it runs."""


@pytest.fixture(scope="module")
def three_epochs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("reference") / "run"
    summary = train(validate_spec(small_spec(epochs=3)), folder)
    return summary, read_records(folder)


def read_records(run):
    import json

    timing = ("images_per_s", "step_time_s", "peak_mem_mb")
    return [{k: v for k, v in json.loads(line).items() if k not in timing} for line in (run / "metrics.jsonl").read_text().splitlines()]


def test_a_torn_last_metrics_line_is_dropped_on_resume_and_the_run_ends_as_an_uninterrupted_one(three_epochs, tmp_path, monkeypatch, capsys):
    """A torn line (a full disk mid-write) stopped every --resume with a raw JSONDecodeError."""
    from lssat_framework.train import loop

    out = tmp_path / "torn"
    real_train_epoch = loop.Run.train_epoch

    def stop_at_the_third_epoch(self, epoch):
        if epoch == 2:
            raise Stopped
        return real_train_epoch(self, epoch)

    with monkeypatch.context() as patch:
        patch.setattr(loop.Run, "train_epoch", stop_at_the_third_epoch)
        with pytest.raises(Stopped):
            train(validate_spec(small_spec(epochs=3)), out)
    with open(out / "metrics.jsonl", "a") as handle:
        handle.write('{"epoch": 3, "train_lo')
    summary = train(validate_spec(small_spec(epochs=3)), out, resume=True)
    assert "metrics.jsonl, line 3: torn" in capsys.readouterr().err
    assert summary["final"] == three_epochs[0]["final"]
    assert read_records(out) == three_epochs[1]


def test_a_full_disk_during_a_save_is_one_message_and_the_resumed_run_ends_as_an_uninterrupted_one(three_epochs, tmp_path, monkeypatch):
    """A full disk killed the run with `RuntimeError: [enforce fail at inline_container.cc:672]`."""
    import errno

    from lssat_framework.errors import TrainingError
    from lssat_framework.train import checkpoints

    out = tmp_path / "full"
    real_save_file = checkpoints.save_file
    saves = {"model": 0}

    def disk_fills_at_the_second_epochs_save(tensors, filename, *args, **kwargs):
        if filename.endswith("last.tmp/model.safetensors"):
            saves["model"] += 1
            if saves["model"] == 2:
                with open(filename, "wb") as handle:
                    handle.write(b"\0" * 100)  # what was written before the disk filled
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), filename)
        return real_save_file(tensors, filename, *args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(checkpoints, "save_file", disk_fills_at_the_second_epochs_save)
        with pytest.raises(TrainingError) as info:
            train(validate_spec(small_spec(epochs=3)), out)
    message = str(info.value)
    assert "no space left on the device" in message and str(out / "checkpoints" / "last") in message
    assert "MiB are free there" in message and "--resume" in message
    assert not (out / "checkpoints" / "last.tmp").exists()  # the partial copy's space is given back
    summary = train(validate_spec(small_spec(epochs=3)), out, resume=True)
    assert summary["final"] == three_epochs[0]["final"]
    assert read_records(out) == three_epochs[1]


def test_the_lock_holder_never_reads_empty_under_continuous_heartbeats(tmp_path):
    """The heartbeat truncated the record, then wrote it: readers saw no holder in ~45 % of reads."""
    import threading

    from lssat_framework.files.lock import RunLock, read_holder

    with RunLock(tmp_path / "run") as lock:
        stop = threading.Event()

        def beat():
            while not stop.is_set():
                lock.heartbeat()

        beater = threading.Thread(target=beat)
        beater.start()
        try:
            reads = [read_holder(tmp_path / "run") for _ in range(3000)]
        finally:
            stop.set()
            beater.join()
    assert all(holder is not None and holder["pid"] == os.getpid() for holder in reads)


@pytest.mark.parametrize("resume", [False, True])
def test_a_run_stopped_before_its_first_checkpoint_starts_over(three_epochs, tmp_path, monkeypatch, capsys, resume):
    """`lssat-run` said "pass --resume", and `--resume` said "no checkpoint, run without --resume"."""
    from lssat_framework.train import loop

    out = tmp_path / "early"
    with monkeypatch.context() as patch:
        patch.setattr(loop, "save_checkpoint", lambda *args: (_ for _ in ()).throw(Stopped()))
        with pytest.raises(Stopped):
            train(validate_spec(small_spec(epochs=3)), out)
    assert (out / "metrics.jsonl").read_text() and not (out / "checkpoints").exists()
    summary = train(validate_spec(small_spec(epochs=3)), out, resume=resume)
    assert "stopped before its first checkpoint; it starts over" in capsys.readouterr().err
    assert summary["final"] == three_epochs[0]["final"] and read_records(out) == three_epochs[1]
