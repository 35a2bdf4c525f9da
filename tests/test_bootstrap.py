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


def scipy_percentile_interval(values, resamples, seed):
    """scipy's percentile bootstrap of the mean: its own resampling (rng.integers(0, n, (B, n)))."""
    from scipy import stats

    result = stats.bootstrap((np.asarray(values, dtype=np.float64),), np.mean, n_resamples=resamples, method="percentile",
                             confidence_level=0.95, rng=np.random.default_rng(seed), vectorized=True)
    return result.confidence_interval.low, result.confidence_interval.high


def test_the_frame_interval_of_lssat_predict_is_scipys_percentile_bootstrap():
    from lssat_framework.predict.answers import INTERVAL_RESAMPLES, frame_interval

    scores = torch.from_numpy(np.random.default_rng(4).beta(2, 5, size=37))
    ours = frame_interval(scores, seed=11)
    low, high = scipy_percentile_interval(scores.numpy(), INTERVAL_RESAMPLES, 11)
    assert (ours["low"], ours["high"]) == pytest.approx((low, high), abs=1e-6)


def test_a_runs_accuracy_interval_is_scipys_percentile_bootstrap_of_the_correct_answers():
    rng = np.random.default_rng(2)
    target = rng.integers(7, size=90)
    logits = torch.from_numpy(np.eye(7)[np.where(rng.random(90) < 0.6, target, (target + 1) % 7)].astype(np.float32))
    task = lssat_framework.create("task", "emotion")
    task.bind(DatasetInfo({"expression": LabelInfo("multiclass", [str(k) for k in range(7)])}, (32, 32)))
    evaluation = Evaluation({}, logits, torch.from_numpy(target), {"groups": {}})
    interval = bootstrap_interval(task, evaluation, "acc", seed=5, resamples=300)
    low, high = scipy_percentile_interval(logits.argmax(1).numpy() == target, 300, 5)
    assert (interval["low"], interval["high"]) == pytest.approx((low, high), abs=1e-12)


def test_the_vectorised_auc_of_a_draw_is_scikit_learns_with_the_draws_counts_as_weights():
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(8)
    labels = rng.integers(2, size=60)
    scores = np.round(rng.normal(labels, 1.0), 1)  # ties on purpose
    counts = resampling.unit_counts(np.random.default_rng(0), 60, 5)
    ours = resampling.RankMetric(scores, labels, np.arange(60))(counts)
    expected = [roc_auc_score(labels, scores, sample_weight=row) for row in counts]
    np.testing.assert_allclose(ours, expected, atol=1e-12)
