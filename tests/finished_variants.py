"""Sweep folders as finished variants leave them, written without training: each variant's spec,
dataset, summary with its reported block and the best checkpoint's per-sample predictions."""

import json

import numpy as np
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
