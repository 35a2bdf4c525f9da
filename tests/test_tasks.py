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


# ------------------------------------------------------------ issue 16 items
def synthetic_info():
    return lssat.create("dataset", "synthetic-faces", image_size=16, train=4, val=4).info


def test_fairness_gap_is_nan_when_a_group_metric_is_undefined(monkeypatch, capsys):
    """Issue 16 item 5: with every sample of one group fake, auc@Male=1 is NaN and the gap
    reported 0.0; it must be NaN, and the log says why once."""
    from lssat_tasks import tasks

    monkeypatch.setattr(tasks, "_EXPLAINED_GAPS", set())
    task, _ = bind("deepfake", groups=["Male"])
    logits = torch.tensor([[-2.0], [1.0], [3.0], [-1.0], [0.5], [-0.2]])
    target = torch.tensor([0, 1, 0, 1, 1, 1])
    extras = {"groups": {"Male": torch.tensor([0, 0, 0, 1, 1, 1])}}
    metrics = task.metrics(logits, target, extras)
    assert metrics["auc@Male=0"] == 0.5 and math.isnan(metrics["auc@Male=1"])
    assert math.isnan(metrics["auc_gap@Male"])
    task.metrics(logits, target, extras)
    warnings = [line for line in capsys.readouterr().err.splitlines() if "auc_gap@Male" in line]
    assert len(warnings) == 1 and "auc@Male=1 is undefined on its 3 samples" in warnings[0]
    # a group value with no sample in the split is reported (NaN), and so the gap is NaN too
    monkeypatch.setattr(tasks, "_EXPLAINED_GAPS", set())
    metrics = task.metrics(logits[:3], torch.tensor([0, 1, 1]), {"groups": {"Male": torch.tensor([0, 0, 0])}})
    assert math.isnan(metrics["auc@Male=1"]) and math.isnan(metrics["auc_gap@Male"])
    assert metrics["auc@Male=0"] == 1.0
    assert "no sample of the split has Male=1" in capsys.readouterr().err


def test_deepfake_reports_balanced_accuracy_beside_accuracy():
    """Issue 16 (messages): real and fake are imbalanced (FF++ 1:4), so plain accuracy has a
    high baseline; balanced accuracy is the mean of the real and the fake recall."""
    task, _ = bind("deepfake")
    # everything called fake: 4 of 5 right, but real recall 0 and fake recall 1
    metrics = task.metrics(torch.full((5, 1), 2.0), torch.tensor([0, 1, 1, 1, 1]), {"groups": {}})
    assert metrics["acc"] == pytest.approx(0.8) and metrics["balanced_acc"] == pytest.approx(0.5)
    # decisions 0 1 | 1 1 1 1 1 0: real recall 1/2, fake recall 5/6
    logits = torch.tensor([-1.0, 1, 1, 1, 1, 1, 1, -1]).unsqueeze(1)
    target = torch.tensor([0, 0, 1, 1, 1, 1, 1, 1])
    metrics = task.metrics(logits, target, {"video": torch.tensor([0, 0, 1, 1, 2, 2, 3, 3]), "groups": {}})
    assert metrics["acc"] == pytest.approx(6 / 8)
    assert metrics["balanced_acc"] == pytest.approx((1 / 2 + 5 / 6) / 2)
    # per video (mean probability ≥ 0.5 in all four): real recall 0, fake recall 1
    assert metrics["video_acc"] == pytest.approx(3 / 4) and metrics["video_balanced_acc"] == pytest.approx(0.5)


TASKS = [
    ("deepfake", {"groups": ["Male"]}),
    ("deepfake", {}),
    ("attributes", {"attributes": ["Smiling", "Bangs"], "groups": ["Male"]}),
    ("attributes", {}),
    ("emotion", {"groups": ["Male"]}),
    ("classification", {"label": "expression"}),
    ("multilabel", {"label": "attributes", "groups": ["Male"]}),
]


@pytest.mark.parametrize("name,params", TASKS)
def test_metric_names_are_the_keys_of_a_real_evaluation(name, params):
    """Issue 16 (messages, train.best_metric checked at validation): metric_names(info) lists
    exactly what metrics() reports on the dataset, group metrics included."""
    source = lssat.create("dataset", "synthetic-faces", image_size=16, train=4, val=12, seed=1)
    task = lssat.create("task", name, **params)
    expected = task.metric_names(source.info)
    assert task.names == []  # asking for the names does not bind the task
    outputs = task.bind(source.info)
    batch = next(iter(torch.utils.data.DataLoader(source.split("val"), batch_size=12)))
    extras = {"groups": batch["groups"]}
    logits = torch.randn(12, outputs, generator=torch.Generator().manual_seed(0))
    metrics = task.metrics(logits, batch["labels"][task.label], extras)
    assert list(metrics) == expected
    for metric in expected:  # the default direction fits every builtin metric
        assert task.higher_is_better(metric) == (metric != "eer" and "_gap@" not in metric)


def test_metric_names_list_video_metrics_when_the_dataset_says_frames_know_their_video():
    info = synthetic_info()
    info.videos = True
    task = lssat.create("task", "deepfake")
    task.bind(info)
    metrics = task.metrics(torch.randn(4, 1), torch.tensor([0, 1, 0, 1]), {"video": torch.tensor([0, 0, 1, 2]), "groups": {}})
    assert task.metric_names(info) == list(metrics)


def test_metric_names_check_the_dataset_like_bind():
    with pytest.raises(DataError, match="reads the label 'age'"):
        lssat.create("task", "classification", label="age").metric_names(synthetic_info())
    with pytest.raises(DataError, match="not in the dataset"):
        lssat.create("task", "attributes", attributes=["Wavy_Hair"]).metric_names(synthetic_info())


@pytest.mark.parametrize("name,params", TASKS)
def test_prediction_columns_come_from_the_task_and_every_row_has_them(name, params):
    """Issue 16 item 13: predict guessed a `label` column from rows whose probabilities sum to
    one, so a multi-label run got it on some rows only and died mid-file."""
    task = lssat.create("task", name, **params)
    outputs = task.bind(synthetic_info())
    logits = torch.randn(5, outputs, generator=torch.Generator().manual_seed(0))
    scores = task.scores(logits)
    if task.kind == "multilabel":  # a row that happens to sum to one gets no label either
        scores[0] = torch.full((outputs,), 1 / outputs)
    columns = task.prediction_columns()
    for score in scores:
        row = task.prediction_row(score)
        assert list(row) == columns
    if task.kind == "binary":
        assert columns == ["p_fake", "label"]
        assert task.prediction_row(torch.tensor(0.75)) == {"p_fake": 0.75, "label": "fake"}
    elif task.kind == "multiclass":
        assert columns == [f"p_{c}" for c in task.names] + ["label"]
        assert row["label"] == task.names[int(scores[-1].argmax())]
    else:
        assert columns == [f"p_{a}" for a in task.names]
