"""Task metrics on hand-computed examples, and the embedded synthetic data."""

import math

import numpy as np
import pytest
import torch

import lssat_framework as lssat
from lssat_framework.errors import DataError
from lssat_tasks import metrics as M


def test_roc_auc_by_hand():
    # pairs (positive, negative): (0.35 > 0.1), (0.35 < 0.4), (0.8 > 0.1), (0.8 > 0.4) -> 3 of 4
    assert M.roc_auc(np.array([0.1, 0.4, 0.35, 0.8]), np.array([0, 0, 1, 1])) == 0.75
    assert M.roc_auc(np.array([0.5, 0.5]), np.array([0, 1])) == 0.5  # a tie counts half
    assert math.isnan(M.roc_auc(np.array([0.1, 0.2]), np.array([1, 1])))


def test_equal_error_rate_by_hand():
    assert M.equal_error_rate(np.array([0.1, 0.2, 0.8, 0.9]), np.array([0, 0, 1, 1])) == 0.0
    # one negative above one positive: at threshold 0.6, FPR = 1/2 and FNR = 1/2
    assert M.equal_error_rate(np.array([0.1, 0.7, 0.5, 0.9]), np.array([0, 0, 1, 1])) == pytest.approx(0.5)


def test_confusion_balanced_accuracy_and_macro_f1_by_hand():
    labels = np.array([0, 0, 0, 1, 2, 2])
    predicted = np.array([0, 0, 1, 1, 2, 0])
    matrix = M.confusion_matrix(predicted, labels, 3)
    assert matrix.tolist() == [[2, 1, 0], [0, 1, 0], [1, 0, 1]]
    assert M.balanced_accuracy(matrix) == pytest.approx((2 / 3 + 1 + 1 / 2) / 3)
    # F1 per class: 2*2/(3+3)=2/3, 2*1/(2+1)=2/3, 2*1/(1+2)=2/3
    assert M.macro_f1(matrix) == pytest.approx(2 / 3)


def bind(name, **params):
    task = lssat.create("task", name, **params)
    source = lssat.create("dataset", "synthetic-faces", image_size=16, train=4, val=4)
    return task, task.bind(source.info)


def test_deepfake_metrics_and_video_level_averaging():
    task, outputs = bind("deepfake")
    assert outputs == 1
    logits = torch.tensor([[-2.0], [1.0], [3.0], [-1.0], [0.5], [-0.2]])
    target = torch.tensor([0, 0, 1, 1, 1, 1])
    videos = torch.tensor([0, 0, 1, 1, 2, 2])
    metrics = task.metrics(logits, target, {"video": videos, "groups": {}})
    assert metrics["acc"] == pytest.approx(3 / 6)  # frames right: 0, 2, 4
    assert metrics["auc"] == pytest.approx(M.roc_auc(logits.squeeze(1).numpy(), target.numpy()))
    # mean probability per video: v0 (0.12+0.73)/2 = 0.43 real, v1 (0.95+0.27)/2 = 0.61 fake, v2 (0.62+0.45)/2 = 0.54 fake
    assert metrics["video_acc"] == 1.0
    assert metrics["video_auc"] == 1.0


def test_attributes_per_attribute_and_mean_accuracy_with_selection():
    task, outputs = bind("attributes", attributes=["Smiling", "Eyeglasses"])
    assert outputs == 2
    # dataset order: Eyeglasses, Smiling, No_Beard, Bangs, Pale_Skin
    target = torch.tensor([[1.0, 1, 0, 0, 0], [0, 1, 1, 0, 0], [0, 0, 1, 1, 0]])
    logits = torch.tensor([[2.0, -1.0], [3.0, -2.0], [-1.0, 1.0]])  # columns: Smiling, Eyeglasses
    metrics = task.metrics(logits, target, {"groups": {}})
    assert metrics["acc/Smiling"] == pytest.approx(1.0)
    assert metrics["acc/Eyeglasses"] == pytest.approx(1 / 3)
    assert metrics["mean_acc"] == pytest.approx(2 / 3)
    with pytest.raises(DataError, match="not in the dataset"):
        bind("attributes", attributes=["Wavy_Hair"])


def test_emotion_metrics_and_fairness_gap():
    task, outputs = bind("emotion", groups=["Male"])
    assert outputs == 7
    target = torch.tensor([0, 1, 2, 3])
    logits = torch.nn.functional.one_hot(torch.tensor([0, 1, 0, 0]), 7).float()
    metrics = task.metrics(logits, target, {"groups": {"Male": torch.tensor([0, 0, 1, 1])}})
    assert metrics["acc"] == 0.5
    assert metrics["acc@Male=0"] == 1.0 and metrics["acc@Male=1"] == 0.0
    assert metrics["acc_gap@Male"] == 1.0


def test_task_that_needs_a_missing_label_is_a_clear_error():
    with pytest.raises(DataError, match="reads the label 'age'"):
        bind("classification", label="age")


def test_synthetic_faces_are_deterministic_and_labelled_for_every_task():
    a = lssat.create("dataset", "synthetic-faces", image_size=32, train=8, val=4, seed=3).split("train")
    b = lssat.create("dataset", "synthetic-faces", image_size=32, train=8, val=4, seed=3).split("train")
    c = lssat.create("dataset", "synthetic-faces", image_size=32, train=8, val=4, seed=4).split("train")
    for i in range(8):
        torch.testing.assert_close(a[i]["image"], b[i]["image"])
    assert not torch.equal(a[0]["image"], c[0]["image"])
    item = a[0]
    assert item["image"].shape == (3, 32, 32) and 0 <= item["image"].min() and item["image"].max() <= 1
    assert set(item["labels"]) == {"fake", "expression", "attributes"}
    assert item["labels"]["attributes"].shape == (5,)
    val = lssat.create("dataset", "synthetic-faces", image_size=32, train=8, val=4, seed=3).split("val")
    assert not torch.equal(val[0]["image"], a[0]["image"])  # splits are drawn apart


def test_attribute_balance_weighs_positives_by_the_training_rate():
    from lssat_framework.interfaces import DatasetInfo, LabelInfo

    info = DatasetInfo(labels={"attributes": LabelInfo("multilabel", ["a", "b"], positive_rate=[0.2, 0.5])}, image_size=(8, 8))
    task = lssat.create("task", "attributes", balance=True)
    assert task.bind(info) == 2
    torch.testing.assert_close(task.pos_weight, torch.tensor([4.0, 1.0]))
    logits, target = torch.zeros(1, 2), torch.tensor([[1.0, 1.0]])
    # BCE at logit 0 is log 2 per positive; the rare attribute's positive counts four times
    assert task.loss(logits, target).item() == pytest.approx((4 * math.log(2) + math.log(2)) / 2)
    with pytest.raises(DataError, match="does not report"):
        bind("attributes", balance=True)
