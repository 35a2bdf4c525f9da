"""Issue 23: a sweep's answers. Intervals from a paired, hierarchical bootstrap that cover the truth,
backbones compared on equal ground only, nothing claimed that the results cannot show, and every
figure labelled with the weights and split it comes from. No training: each variant's folder is
written here as a finished run leaves it (spec, dataset, summary with its reported block, the best
checkpoint's per-sample predictions)."""

import csv
import json
import math

import numpy as np
import pytest
import yaml

from lssat_framework.spec import load_spec

EXPRESSIONS = ["angry", "disgust", "fear", "happy", "neutral", "sad", "surprise"]
DATASET = {"image_size": [32, 32], "groups": {}, "labels": {"fake": {"kind": "binary", "names": ["real", "fake"]},
                                                           "expression": {"kind": "multiclass", "names": EXPRESSIONS}}}


def make_sweep(tmp_path, tiny_spec, sweep):
    """A sweep folder as `lssat sweep` launches it (its sweep.json), with no variant run yet."""
    from lssat_framework.sweep import expand
    from lssat_framework.sweep.launch import manifest
    from lssat_framework.sweep.state import write_manifest

    tiny_spec["sweep"] = sweep
    path = tmp_path / "sweep.yaml"
    path.write_text(yaml.safe_dump(tiny_spec))
    resolved = load_spec(path)
    grid = manifest(resolved, expand(resolved))
    out = tmp_path / "out"
    write_manifest(out, grid)
    return out, {variant["name"]: variant for variant in grid["variants"]}


def finish(out, variant, logits, target, video=None, epoch=3, final=None):
    """Write what a finished run leaves; the reported figures computed by the task from the
    predictions, as the trainer does (``final``: another value for the last epoch's weights)."""
    import lssat_framework
    from lssat_framework.train.evaluation import bootstrap_interval, chance, evaluation_from_arrays
    from lssat_framework.train.rundir import read_dataset_info

    run = out / variant["name"]
    best = run / "checkpoints" / "best"
    best.mkdir(parents=True)
    raw = variant["raw"]
    (run / "spec.yaml").write_text(yaml.safe_dump(raw, sort_keys=False))
    (run / "dataset.json").write_text(json.dumps({**DATASET, "videos": video is not None}))
    arrays = {"logits": np.asarray(logits, dtype=np.float32), "target": np.asarray(target, dtype=np.int64)}
    if video is not None:
        arrays["video"] = np.asarray(video, dtype=np.int64)
    np.savez(best / "predictions.npz", **arrays)
    (best / "trainer_state.json").write_text(json.dumps({"epoch": epoch}))
    task = lssat_framework.create("task", raw["task"]["name"], **(raw["task"].get("params") or {}))
    task.bind(read_dataset_info(run))
    evaluation = evaluation_from_arrays(arrays)
    metrics = task.metrics(evaluation.logits, evaluation.target, evaluation.extras)
    headline = task.headline
    interval = bootstrap_interval(task, evaluation, headline, resamples=100)
    level = chance(task, evaluation, headline)
    videos = None if video is None else len(set(np.asarray(video).tolist()))
    last = {**metrics, headline: metrics[headline] if final is None else final}
    summary = {
        "name": raw["name"], "task": raw["task"]["name"], "headline": headline, "seed": raw.get("seed", 0),
        "final": last, "final_interval": interval, "chance": level, "best": {"epoch": epoch, "metric": headline, "value": metrics[headline]},
        "epochs": epoch + 2, "parameters": 1_000_000, "images_per_s": 10.0, "peak_mem_mb": 100.0,
        "reported": {"weights": "best", "epoch": epoch, "split": "val", "metrics": metrics, "interval": interval, "chance": level,
                     "samples": len(arrays["target"]), "videos": videos},
    }
    (run / "summary.json").write_text(json.dumps(summary))


def fail(out, variant):
    from lssat_framework.sweep.state import mark_job

    mark_job(out / variant["name"], "failed", error="RuntimeError: boom: the model exploded")


def multiclass(correct, seed=0):
    """Logits and targets of 7 expressions where ``correct`` (bools) says which answers are right."""
    rng = np.random.default_rng(seed)
    target = rng.integers(len(EXPRESSIONS), size=len(correct))
    answer = np.where(correct, target, (target + 1) % len(EXPRESSIONS))
    return np.eye(len(EXPRESSIONS))[answer] * 3.0, target


def collected(out):
    from lssat_framework.sweep.collect import collect

    collect(out, quiet=True)
    return (out / "answers.md").read_text(), (out / "leaderboard.md").read_text()


# ------------------------------------------------------------------ coverage
def simulate_coverage(reps, samples=200, settings=5, seeds=3, seed_effect=0.3, churn=1.0, means=(0.8, 0.6), rng_seed=0):
    """How often the 95 % intervals hold the truth: two backbones, each trained with ``seeds`` seeds
    in each of ``settings`` settings, all scored on one test set of ``samples`` drawn anew per
    repetition. A variant answers sample i right when mean + setting + its seed's effect + the
    sample's ease + its own per-sample noise > 0 (all normal), so the truth, the accuracy averaged
    over the settings and over seeds and samples, is known exactly. Returns the coverage of each
    backbone's cell and of their difference."""
    from lssat_framework.sweep import paired

    rng = np.random.default_rng(rng_seed)
    shifts = np.linspace(-0.5, 0.5, settings)
    scale = math.sqrt(1 + seed_effect**2 + churn**2)
    phi = lambda x: 0.5 * (1 + math.erf(x / math.sqrt(2)))  # noqa: E731
    truth = [float(np.mean([phi((mean + shift) / scale) for shift in shifts])) for mean in means]
    truth.append(truth[0] - truth[1])
    ground = {f"s{s}": [str(r) for r in range(seeds)] for s in range(settings)}
    hits = np.zeros(3)
    for _ in range(reps):
        ease = rng.standard_normal(samples)
        counts = paired.unit_counts(rng, samples, paired.DRAWS)
        picks = paired.seed_picks(rng, ground, paired.DRAWS)
        cells = []
        for mean in means:
            values, points = {}, {}
            for setting, shift in zip(ground, shifts):
                for seed in ground[setting]:
                    right = (mean + shift + seed_effect * rng.standard_normal() + ease + churn * rng.standard_normal(samples) > 0)
                    values[(setting, seed)] = paired.MeanMetric(right, np.arange(samples), samples)(counts)
                    points[(setting, seed)] = float(right.mean())
            cells.append(paired.cell_draws(values, points, ground, picks))
        for index, draws in enumerate([cells[0], cells[1], cells[0] - cells[1]]):
            low, high = paired.interval(draws)
            hits[index] += low <= truth[index] <= high
    return hits / reps


def test_the_paired_hierarchical_bootstrap_covers_the_truth_95_times_in_100():
    """Issue 23 item 3: cells averaged over 5 settings covered the truth in 68 % of draws, since
    their variants, all scored on one validation set, were taken as independent."""
    coverage = simulate_coverage(reps=800, rng_seed=4)  # 3000 repetitions: 94.2 %, 95.2 %, 94.3 %
    assert ((coverage >= 0.93) & (coverage <= 0.97)).all(), coverage


def test_the_vectorised_metrics_are_the_tasks_own_on_every_draw():
    """AUC with whole videos drawn, accuracy and balanced accuracy: the same values as the task's
    metrics computed on the resampled samples, draw by draw."""
    import torch

    import lssat_framework
    from lssat_framework.interfaces import DatasetInfo, LabelInfo
    from lssat_framework.sweep import paired, scoring
    from lssat_framework.train.evaluation import evaluation_from_arrays

    rng = np.random.default_rng(3)
    video = np.repeat(np.arange(40), 5)
    target = np.repeat(rng.integers(2, size=40), 5)
    logits = np.round(rng.normal(target - 0.5, 1.0), 1)[:, None].astype(np.float32)  # ties on purpose
    cases = [("deepfake", "fake", "binary", ["real", "fake"], "auc", {"logits": logits, "target": target, "video": video})]
    emotions, classes = multiclass(rng.random(150) < 0.7)
    for metric in ("acc", "balanced_acc"):
        cases.append(("emotion", "expression", "multiclass", EXPRESSIONS, metric, {"logits": emotions.astype(np.float32), "target": classes}))
    for name, label, kind, names, metric, arrays in cases:
        task = lssat_framework.create("task", name)
        task.bind(DatasetInfo({label: LabelInfo(kind, names)}, (32, 32), videos="video" in arrays))
        evaluation = evaluation_from_arrays(arrays)
        unit, units = scoring._units(arrays)
        fast = scoring._vectorised(task, evaluation, metric, unit, units)
        counts = paired.unit_counts(np.random.default_rng(0), units, 20)
        expected = scoring._by_task(task, evaluation, metric, unit, units)(counts)
        assert isinstance(evaluation.logits, torch.Tensor) and fast is not None
        np.testing.assert_allclose(fast(counts), expected, atol=1e-9, err_msg=f"{name} {metric}")


# ------------------------------------------------------------------ equal ground
def test_no_winner_is_crowned_over_different_ground(tmp_path, tiny_spec):
    """Issue 23 item 4: A ran only the easy setting (0.900), B easy (0.905) and hard (0.700); the
    answers said 'A ahead of the runner-up B (intervals apart)'."""
    tiny_spec["task"] = {"name": "emotion"}
    out, variants = make_sweep(tmp_path, tiny_spec, {
        "backbone": {"A": {"backbone.params.depth": 1}, "B": {"backbone.params.depth": 2}},
        "difficulty": {"easy": {"train.lr": 1.0e-3}, "hard": {"train.lr": 1.0e-2}},
    })
    shared = np.arange(200) < 170  # both right on the first 170 samples
    a_right, b_right = shared.copy(), shared.copy()
    a_right[170:180] = True  # A: 180 of 200, B: 181, on partly different samples
    b_right[185:196] = True
    finish(out, variants["backbone=A__difficulty=easy"], *multiclass(a_right))
    finish(out, variants["backbone=B__difficulty=easy"], *multiclass(b_right))
    finish(out, variants["backbone=B__difficulty=hard"], *multiclass(np.arange(200) < 140))
    fail(out, variants["backbone=A__difficulty=hard"])
    answers, _ = collected(out)
    assert "ahead of the runner-up" not in answers and "Yes:" not in answers
    assert "not separable at this size: B 0.905" in answers and "A 0.900" in answers
    assert "incomplete: compared over setting easy only; left out: setting hard: no result from A (failed: RuntimeError: boom" in answers


def test_backbones_that_share_no_setting_are_not_compared(tmp_path, tiny_spec):
    tiny_spec["task"] = {"name": "emotion"}
    out, variants = make_sweep(tmp_path, tiny_spec, {
        "backbone": {"A": {"backbone.params.depth": 1}, "B": {"backbone.params.depth": 2}},
        "difficulty": {"easy": {"train.lr": 1.0e-3}, "hard": {"train.lr": 1.0e-2}},
    })
    finish(out, variants["backbone=A__difficulty=easy"], *multiclass(np.arange(100) < 90))
    finish(out, variants["backbone=B__difficulty=hard"], *multiclass(np.arange(100) < 60))
    fail(out, variants["backbone=A__difficulty=hard"])
    answers, _ = collected(out)
    assert "- emotion (acc): no common ground: no setting and seed that every backbone finished; nothing compared." in answers
    assert "incomplete: nothing compared; left out: setting easy: no result from B (pending); setting hard: no result from A (failed" in answers
    assert "- Nothing to compare: no task has results from two backbones on common ground." in answers


def test_one_backbone_alone_has_nothing_to_compare_and_is_flagged_at_chance(tmp_path, tiny_spec):
    """Issue 23 item 9: with the other backbone failed, the answers said 'Yes: vit-mini is the best
    on every task, its interval clear of the runner-up's' of an AUC whose interval held chance."""
    out, variants = make_sweep(tmp_path, tiny_spec, {"backbone": {"vit-mini": {"backbone.params.depth": 1},
                                                                  "resnet18": {"backbone": {"name": "resnet18"}}}})
    rng = np.random.default_rng(5)
    target = rng.integers(2, size=60)
    finish(out, variants["backbone=vit-mini"], rng.normal(size=(60, 1)), target)
    fail(out, variants["backbone=resnet18"])
    answers, _ = collected(out)
    assert "runner-up" not in answers and "Yes:" not in answers and "is the best" not in answers
    assert "nothing to compare: only **vit-mini** has results; no result from resnet18 (failed: RuntimeError" in answers
    assert "At chance level (interval includes chance): vit-mini (0.500)" in answers
    assert "- Nothing to compare: no task has results from two backbones on common ground." in answers


def test_a_backbone_group_that_also_sets_the_image_size_is_the_backbone_axis(tmp_path, tiny_spec):
    """Issue 23 item 9: `resnet18: {backbone: {name: resnet18}, data.params.image_size: 64}` was
    taken for a task: 'resnet18 (auc): one backbone only', '**backbone** is the best on every task'."""
    out, variants = make_sweep(tmp_path, tiny_spec, {"backbone": {
        "resnet18": {"backbone": {"name": "resnet18"}, "data.params.image_size": 64},
        "vit": {"backbone.params.depth": 1, "data.params.image_size": 32},
    }})
    rng = np.random.default_rng(1)
    target = rng.integers(2, size=200)
    finish(out, variants["backbone=resnet18"], (target - 0.5 + rng.normal(0, 0.3, 200))[:, None], target)
    finish(out, variants["backbone=vit"], (target - 0.5 + rng.normal(0, 1.5, 200))[:, None], target)
    answers, board = collected(out)
    assert "resnet18 (auc)" not in answers and "**backbone**" not in answers and "one backbone only" not in answers
    assert "- deepfake (auc): **resnet18** 0.9" in answers and "ahead of the runner-up vit" in answers
    assert "| backbone | largest gap to the best (points) | deepfake (auc) |" in answers


def test_a_figure_on_few_videos_carries_a_sample_size_warning(tmp_path, tiny_spec):
    """Issue 23 item 9: a validation AUC of 1.0 [1.0, 1.0] on 4 videos carried no warning."""
    out, variants = make_sweep(tmp_path, tiny_spec, {"backbone.params.depth": [1, 2]})
    video = np.repeat(np.arange(4), 8)
    target = np.repeat([0, 1, 0, 1], 8)
    for name in variants:
        finish(out, variants[name], (target * 4.0 - 2.0)[:, None], target, video=video)
    answers, board = collected(out)
    assert "1.000 [1.000, 1.000] ⚠ only 4 videos evaluated (under 30): too few to trust" in answers
    assert "1.0000 [1.0000, 1.0000] ⚠ 4 videos" in board


# ------------------------------------------------------------------ labels
def test_every_figure_names_its_weights_and_split(tmp_path, tiny_spec):
    """Issue 23 item 6: the leaderboard showed the final epoch's value beside the best checkpoint's
    test-set columns; now value, interval and chance are the best weights', and say so."""
    out, variants = make_sweep(tmp_path, tiny_spec, {"backbone.params.depth": [1, 2]})
    rng = np.random.default_rng(2)
    target = rng.integers(2, size=100)
    for shift, name in enumerate(sorted(variants)):
        finish(out, variants[name], (target - 0.5 + rng.normal(0, 0.5 + shift, 100))[:, None], target, epoch=3, final=0.123)
    answers, board = collected(out)
    rows = list(csv.DictReader(open(out / "leaderboard.csv")))
    assert {r["weights"] for r in rows} == {"best"} and {r["epoch"] for r in rows} == {"3"} and {r["split"] for r in rows} == {"val"}
    assert all(float(r["value"]) > 0.5 for r in rows)  # the best weights', not the final 0.123
    assert "| best (epoch 3), validation |" in board and "0.1230" not in board
    assert "Figures: best (epoch 3), validation." in answers


def test_variants_scored_on_different_validation_sets_are_not_paired_and_it_is_said(tmp_path, tiny_spec):
    out, variants = make_sweep(tmp_path, tiny_spec, {"backbone.params.depth": [1, 2]})
    rng = np.random.default_rng(4)
    for size, name in zip((80, 60), sorted(variants)):
        target = rng.integers(2, size=size)
        finish(out, variants[name], (target - 0.5 + rng.normal(0, 1, size))[:, None], target)
    answers, _ = collected(out)
    assert "note: not paired across all variants: their validation sets differ (counts or targets) — 80 samples: backbone.depth=1; 60 samples" in answers


@pytest.mark.parametrize("interval", [True, False])
def test_runs_without_predictions_fall_back_to_their_own_intervals_never_narrower(tmp_path, tiny_spec, interval):
    """Older runs keep no per-sample outputs: the cell's interval is its runs' own, said so; a run
    without an interval leaves its cell without one (it used to make the interval narrower)."""
    tiny_spec["task"] = {"name": "emotion"}
    out, variants = make_sweep(tmp_path, tiny_spec, {"backbone": {"A": {"backbone.params.depth": 1}, "B": {"backbone.params.depth": 2}},
                                                     "seed": [0, 1]})
    for index, name in enumerate(sorted(variants)):
        finish(out, variants[name], *multiclass(np.arange(200) < 150 + 10 * index))
        (out / name / "checkpoints" / "best" / "predictions.npz").unlink()
        if not interval and index == 0:
            summary = json.loads((out / name / "summary.json").read_text())
            summary["reported"]["interval"] = None
            (out / name / "summary.json").write_text(json.dumps(summary))
    answers, _ = collected(out)
    assert ("note: not the paired bootstrap: intervals from each run's own interval, combined to err on the wide side, since not every "
            "run's per-sample outputs can be scored again (backbone=A__seed=0 (no checkpoints/best/predictions.npz)") in answers
    assert ("A 0.775 [no interval]" in answers) is not interval


@pytest.mark.parametrize("kept", [True, False])
def test_a_rates_difference_stays_within_minus_one_and_one_with_two_seeds(tmp_path, tiny_spec, kept):
    """Two seeds far apart: Student's t with one degree of freedom (12.7) widened an accuracy
    difference to about [-3.6, 3.6]; a difference of two rates lies in [-1, 1]. Both the paired
    bootstrap (per-sample outputs kept) and the fallback (not kept) are cut there."""
    tiny_spec["task"] = {"name": "emotion"}
    out, variants = make_sweep(tmp_path, tiny_spec, {"backbone": {"A": {"backbone.params.depth": 1}, "B": {"backbone.params.depth": 2}},
                                                     "seed": [0, 1]})
    right = {"backbone=A__seed=0": 190, "backbone=A__seed=1": 20, "backbone=B__seed=0": 30, "backbone=B__seed=1": 180}
    for name, count in right.items():
        finish(out, variants[name], *multiclass(np.arange(200) < count))
        if not kept:
            (out / name / "checkpoints" / "best" / "predictions.npz").unlink()
    collected(out)
    task, = json.loads((out / "answers.json").read_text())["tasks"]
    assert task["paired"] is kept
    difference, = task["differences"]
    assert -1.0 <= difference["low"] < difference["value"] < difference["high"] <= 1.0, difference
    assert (difference["low"], difference["high"]) == (-1.0, 1.0)  # the seeds say nothing: all of it
