"""A run's bootstrap: whole videos drawn with replacement, each drawn copy a new video, and the
metric scored on a draw as the task scores it (vectorised where that gives the task's value);
`benchmarks/bootstrap.py` times 2000 videos × 32 frames."""

import numpy as np
import pytest
import torch

import lssat_framework
from lssat_framework.interfaces import DatasetInfo, LabelInfo
from lssat_framework.train import resampling
from lssat_framework.train.evaluation import Evaluation, bootstrap_interval


class Recording:
    """A task whose metric records what it was given: each logit is its frame's index."""

    def __init__(self):
        self.seen = []

    def metrics(self, logits, target, extras):
        self.seen.append((logits.flatten().long().tolist(), extras["video"].tolist()))
        return {"m": 0.0}


def test_a_draw_takes_whole_videos_each_under_a_new_id():
    generator = torch.Generator().manual_seed(3)
    videos = torch.randint(0, 40, (500,), generator=generator)  # frames of 40 videos, shuffled
    evaluation = Evaluation({}, torch.arange(500, dtype=torch.float32)[:, None], torch.zeros(500, dtype=torch.long), {"video": videos})
    unit, units = resampling.sample_units(videos.numpy(), 500)
    assert units == 40 and (np.unique(videos.numpy())[unit] == videos.numpy()).all()
    counts = resampling.unit_counts(np.random.default_rng(0), units, 1)
    task = Recording()
    resampling.by_task(task, evaluation, "m", unit, units)(counts)
    (frames, new_ids), = task.seen
    ids = torch.unique(videos).tolist()
    drawn = [v for v in range(units) for _ in range(int(counts[0, v]))]
    assert sorted(frames) == sorted(i for v in drawn for i in torch.nonzero(videos == ids[v]).flatten().tolist())
    assert len(set(new_ids)) == len(drawn)  # a video drawn twice is two videos
    for new_id in set(new_ids):  # each new video holds the frames of one original video, all of them
        originals = {int(videos[f]) for f, n in zip(frames, new_ids) if n == new_id}
        assert len(originals) == 1 and new_ids.count(new_id) == int((videos == originals.pop()).sum())


def test_a_runs_interval_is_the_percentile_interval_of_the_tasks_metric_on_the_draws():
    """The vectorised AUC gives the interval the task's own AUC gives on the same draws."""
    rng = np.random.default_rng(1)
    video = np.repeat(np.arange(30), 4)
    target = np.repeat(rng.integers(2, size=30), 4)
    logits = torch.from_numpy(rng.normal(target - 0.5, 1.0)[:, None].astype(np.float32))
    task = lssat_framework.create("task", "deepfake")
    task.bind(DatasetInfo({"fake": LabelInfo("binary", ["real", "fake"])}, (32, 32), videos=True))
    evaluation = Evaluation({}, logits, torch.from_numpy(target), {"video": torch.from_numpy(video), "groups": {}})
    interval = bootstrap_interval(task, evaluation, "auc", seed=7, resamples=200)
    unit, units = resampling.sample_units(video, len(target))
    assert isinstance(resampling.draw_metric(task, evaluation, "auc")[0], resampling.RankMetric)
    by_task, = resampling.metric_draws([resampling.by_task(task, evaluation, "auc", unit, units)], units, len(target), 200, np.random.default_rng(7))
    low, high = np.quantile(by_task, [0.025, 0.975])
    assert interval["unit"] == "video" and interval["resamples"] == 200
    assert (interval["low"], interval["high"]) == pytest.approx((low, high), abs=1e-9)
