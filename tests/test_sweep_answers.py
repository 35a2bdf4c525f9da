"""Issue 23: a sweep's answers. Intervals from a paired, hierarchical bootstrap that cover the truth,
backbones compared on equal ground only, nothing claimed that the results cannot show, and every
figure labelled with the weights and split it comes from. No training: each variant's folder is
written here as a finished run leaves it (spec, dataset, summary with its reported block, the best
checkpoint's per-sample predictions)."""

import csv

import numpy as np

from finished_variants import collected, fail, finish, make_sweep, multiclass


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
