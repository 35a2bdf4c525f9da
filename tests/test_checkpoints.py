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
