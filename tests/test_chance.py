"""Chance per metric, by its definition: shuffled predictions at 80 % fakes gave accuracy 0.594,
while always answering "fake" scores 0.80."""

import pytest
import torch

import lssat_framework as lssat
from lssat_framework.interfaces import DatasetInfo, LabelInfo
from lssat_framework.train.evaluation import Evaluation, chance


def bound(task_name, label, info_label, **params):
    task = lssat.create("task", task_name, **params)
    task.bind(DatasetInfo(labels={label: info_label}, image_size=(32, 32), videos=True))
    return task


def test_deepfake_chance_is_the_majority_for_accuracy_half_for_auc_and_the_fake_share_for_ap():
    generator = torch.Generator().manual_seed(0)
    video = torch.arange(50).repeat_interleave(4)
    fake = (torch.arange(50) % 5 != 0).long()[video]  # 80 % fakes
    logits = torch.randn(200, 1, generator=generator)  # a model that learned nothing
    task = bound("deepfake", "fake", LabelInfo("binary", ["real", "fake"]))
    evaluation = Evaluation({}, logits, fake, {"video": video, "groups": {}})
    expected = {"acc": 0.8, "balanced_acc": 0.5, "auc": 0.5, "eer": 0.5, "ap": 0.8, "video_acc": 0.8, "video_auc": 0.5, "video_ap": 0.8}
    for metric, value in expected.items():
        assert chance(task, evaluation, metric) == pytest.approx(value), metric
    always_fake = task.metrics(torch.full((200, 1), 5.0), fake, evaluation.extras)
    assert always_fake["acc"] == pytest.approx(chance(task, evaluation, "acc"))


def test_multiclass_and_attribute_chance_is_always_answering_the_majority():
    target = torch.tensor([0] * 6 + [1] * 3 + [2] * 1)
    emotion = bound("emotion", "expression", LabelInfo("multiclass", ["a", "b", "c"]))
    evaluation = Evaluation({}, torch.randn(10, 3), target, {"groups": {}})
    assert chance(emotion, evaluation, "acc") == pytest.approx(0.6)
    assert chance(emotion, evaluation, "balanced_acc") == pytest.approx(1 / 3)
    attributes = torch.tensor([[1, 0], [1, 0], [1, 1], [0, 0]])
    task = bound("attributes", "attributes", LabelInfo("multilabel", ["Smiling", "Male"]))
    evaluation = Evaluation({}, torch.randn(4, 2), attributes, {"groups": {}})
    assert chance(task, evaluation, "mean_acc") == pytest.approx((0.75 + 0.75) / 2)
    assert chance(task, evaluation, "acc/Male") == pytest.approx(0.75)
