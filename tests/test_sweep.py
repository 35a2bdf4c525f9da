"""Sweeps without training: stale results, the CLI's views of a sweep folder, failures, answers
with their uncertainty. The trainer is replaced by one that writes a run's files at once (the real
trainer is exercised in tests/test_sweep_launchers.py; the grid: test_sweep_grid.py; jobs:
test_sweep_jobs.py)."""

import pytest
import yaml

from lssat_framework import cli
from lssat_framework.errors import LssatError
from lssat_framework.spec import load_spec

from sweep_fakes import read_csv, trainer, write_spec  # noqa: F401 - trainer is a fixture


def test_an_axis_named_task_is_not_overwritten_by_the_summarys_task(tmp_path, tiny_spec, trainer):
    """Issue 16 item 2: a sweep over two deepfake datasets through an axis named ``task`` kept two
    ``task`` columns reading ``deepfake`` and averaged the two datasets as one task."""
    from lssat_framework.sweep import run_sweep

    trainer(score=lambda raw: (0.9, 0.85, 0.95) if raw["data"]["params"]["val"] == 13 else (0.6, 0.55, 0.65))
    tiny_spec["sweep"] = {
        "backbone.params.depth": [1, 2],
        "task": {"set-a": {"data.params.val": 13}, "set-b": {"data.params.val": 14}},
    }
    out = tmp_path / "out"
    run_sweep(load_spec(write_spec(tmp_path, tiny_spec)), out=out)
    answers = (out / "answers.md").read_text()
    assert "set-a (auc)" in answers and "set-b (auc)" in answers and "deepfake (auc)" not in answers
    rows = read_csv(out / "leaderboard.csv")
    assert sorted(r["sweep.task"] for r in rows) == ["set-a", "set-a", "set-b", "set-b"]
    assert {r["task"] for r in rows} == {"deepfake"}  # the summary's task kind, in its own column


def test_the_leaderboard_has_a_column_per_test_set_of_evaluate_and_names_those_not_evaluated(tmp_path, tiny_spec, trainer):
    """Issue 12: a sweep with an `evaluate:` list puts the cross-dataset AUCs into its leaderboard."""
    from lssat_framework.sweep import run_sweep

    trainer(score=lambda raw: (0.6 + 0.1 * raw["backbone"]["params"]["depth"], 0.5, 0.9))
    tiny_spec["sweep"] = {"backbone.params.depth": [1, 2]}
    tiny_spec["evaluate"] = [{"name": "celebdf", "params": {"root": "/data/Celeb-DF-v2"}}, {"name": "dfdc", "params": {"root": "/data/DFDC"}, "label": "dfdc-test"}]
    out = tmp_path / "out"
    # as launched with --no-check-data: the test sets are not there, and the stand-in trainer
    # reports the last one missing as the trainer would
    run_sweep(load_spec(write_spec(tmp_path, tiny_spec)), out=out, check_data=False)
    rows = read_csv(out / "leaderboard.csv")
    assert list(rows[0])[-3:] == ["auc@celebdf", "video_auc@celebdf", "error"]
    assert {r["variant"]: round(float(r["auc@celebdf"]), 4) for r in rows} == {"backbone.depth=1": 0.6, "backbone.depth=2": 0.7}
    board = (out / "leaderboard.md").read_text()
    assert "| auc@celebdf | video_auc@celebdf |" in board.splitlines()[0] and "| 0.7000 | 0.7500 |" in board
    assert "## Test sets not evaluated (2)" in board and "- backbone.depth=1, dfdc-test: dfdc-test: expected the folder" in board


def test_a_sweep_refuses_results_of_a_different_spec(tmp_path, tiny_spec, trainer):
    """Issue 16 item 27: re-running with --set train.epochs=2 printed "finished, skipped" for every
    variant and kept the old leaderboard."""
    from lssat_framework.sweep import run_sweep

    fake = trainer()
    tiny_spec["sweep"] = {"backbone.params.depth": [1, 2]}
    path = write_spec(tmp_path, tiny_spec)
    out = tmp_path / "out"
    run_sweep(load_spec(path), out=out)
    assert len(fake.made) == 2
    with pytest.raises(LssatError, match=r"(?s)2 variants were run with a different spec.*train\.epochs: 1 -> 2.*--rerun-changed"):
        run_sweep(load_spec(path, ["train.epochs=2"]), out=out)
    assert len(fake.made) == 2


def test_rerun_changed_runs_stale_variants_again_and_result_neutral_keys_do_not_count(tmp_path, tiny_spec, trainer, capsys):
    """Issue 16 item 27: the explicit flag re-runs; name, launcher and checkpoint_every change nothing."""
    fake = trainer()
    tiny_spec["sweep"] = {"backbone.params.depth": [1, 2]}
    path = write_spec(tmp_path, tiny_spec)
    out = tmp_path / "out"
    assert cli.main(["sweep", str(path), "--out", str(out)]) == 0
    neutral = ["--set", "launcher.partition=gpu", "--set", "train.checkpoint_every=5", "--set", "name=renamed"]
    assert cli.main(["sweep", str(path), "--out", str(out), *neutral]) == 0
    assert capsys.readouterr().out.count("finished, skipped") == 2 and len(fake.made) == 2
    assert cli.main(["sweep", str(path), "--out", str(out), "--set", "train.epochs=2"]) == 2
    assert "train.epochs" in capsys.readouterr().err
    assert cli.main(["sweep", str(path), "--out", str(out), "--set", "train.epochs=2", "--rerun-changed"]) == 0
    assert len(fake.made) == 4
    stored = yaml.safe_load((out / "backbone.depth=1" / "spec.yaml").read_text())
    assert stored["train"]["epochs"] == 2


def test_lssat_run_on_a_sweep_spec_still_runs_it_inline(tmp_path, tiny_spec, trainer, capsys):
    fake = trainer()
    tiny_spec["sweep"] = {"backbone.params.depth": [1, 2], "task.name": ["deepfake", "emotion"]}
    path = write_spec(tmp_path, tiny_spec)
    out = tmp_path / "sweep"
    assert cli.main(["run", str(path), "--out", str(out)]) == 0
    assert sorted(fake.made) == ["backbone.depth=1__task=deepfake", "backbone.depth=1__task=emotion",
                                 "backbone.depth=2__task=deepfake", "backbone.depth=2__task=emotion"]
    rows = read_csv(out / "leaderboard.csv")
    assert {r["metric"] for r in rows} == {"auc", "acc"} and {r["state"] for r in rows} == {"done"}
    for name in ("leaderboard.md", "metric_per_backbone.png", "metric_vs_parameters.png", "answers.md"):
        assert (out / name).is_file(), name
    capsys.readouterr()
    assert cli.main(["run", str(path), "--out", str(out)]) == 0
    assert capsys.readouterr().out.count("finished, skipped") == 4 and len(fake.made) == 4


def test_list_variant_status_and_collect_on_a_partial_grid(tmp_path, tiny_spec, trainer, capsys, monkeypatch):
    fake = trainer()
    tiny_spec["sweep"] = {"backbone.params.depth": [1, 2], "task.name": ["deepfake", "emotion"]}
    path = write_spec(tmp_path, tiny_spec)
    out = tmp_path / "out"
    assert cli.main(["sweep", str(path), "--out", str(out), "--list"]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert listed[1].split() == ["0", "backbone.depth=1__task=deepfake", "pending"]
    assert listed[3].split() == ["2", "backbone.depth=2__task=deepfake", "pending"]
    assert cli.main(["sweep", str(path), "--out", str(out), "--variant", "2"]) == 0
    assert fake.made == ["backbone.depth=2__task=deepfake"]
    monkeypatch.setenv("JOB_COMPLETION_INDEX", "1")  # a Kubernetes Indexed Job's pod
    assert cli.main(["sweep", str(path), "--out", str(out), "--variant", "auto"]) == 0
    assert fake.made[-1] == "backbone.depth=1__task=emotion"
    capsys.readouterr()
    assert cli.main(["sweep", str(path), "--out", str(out), "--status"]) == 0
    status = capsys.readouterr().out
    assert "2 done, 2 pending" in status
    assert [line.split()[2] for line in status.splitlines()[1:5]] == ["pending", "done", "done", "pending"]
    assert cli.main(["sweep", "status", str(out)]) == 0  # from the folder alone
    assert "2 done, 2 pending" in capsys.readouterr().out
    assert cli.main(["sweep", str(path), "--out", str(out), "--collect"]) == 0
    board = (out / "leaderboard.md").read_text()
    assert "Not finished (2 of 4)" in board and "backbone.depth=1__task=deepfake: pending" in board
    assert "backbone.depth=2__task=emotion: pending" in (out / "answers.md").read_text()


def test_bad_sweep_input_is_a_clear_error(tmp_path, tiny_spec, trainer, capsys, monkeypatch):
    trainer()
    tiny_spec["sweep"] = {"backbone.params.depth": [1, 2]}
    path = write_spec(tmp_path, tiny_spec)
    out = str(tmp_path / "out")
    cases = [
        (["--variant", "99"], "the grid has 2 variants, indices 0 to 1"),
        (["--variant", "depth=7"], "no variant of that index or name"),
        (["--variant", "auto"], "no array index in the environment"),
        (["--parallel", "0"], "--parallel: at least 1"),
        (["--set", "launcher.partion=gpu"], "did you mean 'partition'"),
        (["--launcher", "local", "--set", "launcher.nodes=2"], "runs on this one machine"),
    ]
    monkeypatch.delenv("SLURM_ARRAY_TASK_ID", raising=False)
    for extra, message in cases:
        assert cli.main(["sweep", str(path), "--out", out, *extra]) == 2, extra
        assert message in capsys.readouterr().err, extra
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    assert cli.main(["sweep", str(path), "--out", out, "--launcher", "slurm"]) == 2
    assert "no `sbatch` on PATH" in capsys.readouterr().err


def test_data_that_cannot_be_used_fails_before_anything_is_launched(tmp_path, tiny_spec, trainer, capsys):
    """Fail before the queue: each variant's dataset is opened (no image decoded) before any runs."""
    fake = trainer()
    folder = {"name": "image-folder", "params": {"root": str(tmp_path / "no-such-folder"), "image_size": 32}}
    tiny_spec["sweep"] = {"data": {"synthetic": {"data.params.val": 13}, "mine": {"data": folder}}}
    path = write_spec(tmp_path, tiny_spec)
    assert cli.main(["sweep", str(path), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "data=mine" in err and "no-such-folder" in err and "nothing was launched" in err
    assert "data=synthetic" not in err and fake.made == []


def test_a_variant_that_raises_is_failed_with_its_message_and_the_others_finish(tmp_path, tiny_spec, trainer, capsys):
    fake = trainer(fail=lambda raw: raw["backbone"]["params"]["depth"] == 2)
    tiny_spec["sweep"] = {"backbone.params.depth": [1, 2, 3]}
    path = write_spec(tmp_path, tiny_spec)
    out = tmp_path / "out"
    assert cli.main(["sweep", str(path), "--out", str(out)]) == 2
    assert "1 of 3 variants failed" in capsys.readouterr().err
    assert len(fake.made) == 3
    assert cli.main(["sweep", str(path), "--out", str(out), "--status"]) == 0
    status = capsys.readouterr().out
    line = next(line for line in status.splitlines() if "backbone.depth=2" in line)
    assert "failed" in line and "RuntimeError: boom: the model exploded" in line
    assert "2 done, 1 failed" in status
    board = (out / "leaderboard.md").read_text()
    assert "backbone.depth=2: failed (RuntimeError: boom: the model exploded)" in board
    rows = {r["variant"]: r for r in read_csv(out / "leaderboard.csv")}
    assert rows["backbone.depth=2"]["state"] == "failed" and rows["backbone.depth=3"]["state"] == "done"


def answers_of(tmp_path, tiny_spec, trainer, score, name):
    from lssat_framework.sweep import run_sweep

    trainer(score=score)
    tiny_spec["sweep"] = {"backbone": {"small": {"backbone.params.depth": 1}, "large": {"backbone.params.depth": 2}},
                          "task.name": ["deepfake", "emotion"]}
    out = tmp_path / name
    run_sweep(load_spec(write_spec(tmp_path, tiny_spec)), out=out)
    return (out / "answers.md").read_text(), (out / "leaderboard.md").read_text()


def test_equal_backbones_are_not_separable_and_a_clearly_better_one_is_named(tmp_path, tiny_spec, trainer):
    """Issue 11: noise is not reported as a finding; a real difference is."""
    same, board = answers_of(tmp_path, tiny_spec, trainer, lambda raw: (0.48, 0.40, 0.56), "same")
    assert "not separable at this size" in same and "Not decided at this size" in same
    assert "ahead of the runner-up" not in same and "is the best on every task" not in same
    assert "At chance level" in same and "Chance: 0.500" in same
    assert "0.4800 [0.4000, 0.5600]" in board

    def clearly(raw):
        return (0.95, 0.92, 0.97) if raw["backbone"]["params"]["depth"] == 2 else (0.60, 0.55, 0.65)

    better, board = answers_of(tmp_path, tiny_spec, trainer, clearly, "better")
    assert "**large** 0.950 [0.920, 0.970], ahead of the runner-up small" in better
    assert "Yes: **large** is the best on every task" in better
    assert "0.9500 [0.9200, 0.9700]" in board


def test_seeds_are_averaged_as_mean_and_std(tmp_path, tiny_spec, trainer):
    from lssat_framework.sweep import run_sweep

    trainer(score=lambda raw: (0.5 + 0.1 * raw["seed"], 0.45 + 0.1 * raw["seed"], 0.55 + 0.1 * raw["seed"]))
    tiny_spec["sweep"] = {"backbone.params.depth": [1], "seed": [0, 1, 2]}
    out = tmp_path / "out"
    run_sweep(load_spec(write_spec(tmp_path, tiny_spec)), out=out)
    board = (out / "leaderboard.md").read_text()
    assert "Averaged over seeds" in board and "0.6000 ± 0.1000 | 3" in board
    assert "mean ± std over 3 seeds: 0.600 ± 0.100" in (out / "answers.md").read_text()


def test_parameter_axis_tick_labels_are_plain_numbers():
    from lssat_framework.images import pyplot
    from lssat_framework.sweep.answers import _plain_log_axis

    fig, ax = pyplot().subplots()
    ax.set_xscale("log")
    ax.set_xlim(4, 12)
    _plain_log_axis(ax.xaxis)
    fig.canvas.draw()
    labels = [t.get_text() for t in ax.get_xticklabels() if 4 <= t.get_position()[0] <= 12]
    pyplot().close(fig)
    assert labels == ["5", "10"]
