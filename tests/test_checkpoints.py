"""Checkpoints survive a kill at any point of the swap (issue 16 item 26)."""

import os
import shutil

import pytest

from lssat_framework.spec import validate_spec
from lssat_framework.train import checkpoints, train

from test_train import read_jsonl


class Killed(BaseException):
    """Stands for a SIGKILL: nothing after it runs, no handler catches it."""


def short_spec(tiny_spec):
    tiny_spec["data"]["params"].update(train=16, val=8)
    tiny_spec["train"].update(epochs=3, recon_grid=False)
    return tiny_spec


def kill_at(monkeypatch, moment):
    """Kill the run at ``moment`` of the first swap of ``checkpoints/last`` (epoch 2's save), so that the resumed run saves again."""
    seen = {"swaps": 0}
    real_replace, real_rmtree = os.replace, shutil.rmtree

    def replace(src, dst):
        src, dst = os.fspath(src), os.fspath(dst)
        if src.endswith("/last") and dst.endswith("/last.old"):
            seen["swaps"] += 1
            if moment == "before moving last aside" and seen["swaps"] == 1:
                raise Killed
        if src.endswith("/last.tmp") and dst.endswith("/last") and moment == "before moving the new copy in" and seen["swaps"] == 1:
            raise Killed
        return real_replace(src, dst)

    def rmtree(path, *args, **kwargs):
        if os.fspath(path).endswith("/last.old") and moment == "before deleting the old copy" and seen["swaps"] == 1:
            raise Killed
        return real_rmtree(path, *args, **kwargs)

    monkeypatch.setattr(checkpoints.os, "replace", replace)
    monkeypatch.setattr(checkpoints.shutil, "rmtree", rmtree)


@pytest.mark.parametrize("moment", ["before moving last aside", "before moving the new copy in", "before deleting the old copy"])
def test_a_kill_inside_the_checkpoint_swap_still_resumes_to_the_same_metrics(tmp_path, tiny_spec, monkeypatch, moment):
    """Killed just after `last` was swapped in, a run left `checkpoints/last.old` and every
    `--resume` then crashed at its next save (OSError: Directory not empty). Every state the swap
    can be killed in must resume, and the resumed run must end as an uninterrupted one does."""
    spec = short_spec(tiny_spec)
    reference = train(validate_spec(spec), tmp_path / "reference")
    out = tmp_path / "killed"
    with monkeypatch.context() as patch:
        kill_at(patch, moment)
        with pytest.raises(Killed):
            train(validate_spec(spec), out)
    assert not (out / "summary.json").exists()
    resumed = train(validate_spec(spec), out, resume=True)
    assert resumed["final"] == reference["final"]
    assert resumed["best"] == reference["best"]
    strip = lambda rows: [{k: v for k, v in r.items() if k not in ("images_per_s", "step_time_s", "peak_mem_mb")} for r in rows]  # noqa: E731
    assert strip(read_jsonl(out / "metrics.jsonl")) == strip(read_jsonl(tmp_path / "reference" / "metrics.jsonl"))
    leftovers = sorted(p.name for p in (out / "checkpoints").iterdir())
    assert leftovers == ["best", "last"]


def test_a_stop_between_the_best_and_the_last_save_keeps_best_and_the_summary_in_agreement(tmp_path, tiny_spec, monkeypatch):
    """A kill between saving `last` and `best` left summary.best naming epoch 2 while
    checkpoints/best held epoch 1 (`lssat eval RUN` gave 0.5126 where the summary said 0.5546).
    The model here improves every epoch (the best is the latest), so epoch 2 saves both."""
    from lssat_framework.train import evaluate_checkpoint, loop

    spec = short_spec(tiny_spec)
    real_update_best = loop.Run._update_best

    def improves_every_epoch(self, epoch, metrics):
        self.state["best"] = None
        return real_update_best(self, epoch, metrics)

    monkeypatch.setattr(loop.Run, "_update_best", improves_every_epoch)
    real_save = loop.save_checkpoint
    saves = []

    def stop_after_the_second_epochs_first_save(accelerator, directory, parts, state, *predictions):
        real_save(accelerator, directory, parts, state, *predictions)
        saves.append((directory.name, state["epoch"]))
        if state["epoch"] == 2 and state["batch"] == 0 and len([s for s in saves if s[1] == 2]) == 1:
            raise Killed

    out = tmp_path / "stopped"
    with monkeypatch.context() as patch:
        patch.setattr(loop, "save_checkpoint", stop_after_the_second_epochs_first_save)
        with pytest.raises(Killed):
            train(validate_spec(spec), out)
    summary = train(validate_spec(spec), out, resume=True)
    best_state = checkpoints.read_state(out / "checkpoints" / "best")
    assert summary["best"] == best_state["best"] and summary["best"]["epoch"] == 3
    value = evaluate_checkpoint(validate_spec(spec), out)[summary["best"]["metric"]]
    assert value == pytest.approx(summary["best"]["value"])
