"""Evaluation as the deepfake field reports it: metrics checked against scikit-learn on random and
tied scores, AP and the per-method AUC of the deepfake task, and `lssat eval --on` writing one
cross-dataset table and one ROC curve per test set."""

import csv

import numpy as np
import pytest
import torch
import yaml
from PIL import Image

import lssat_framework as lssat
from lssat_framework import cli
from lssat_framework.errors import LssatError
from lssat_framework.interfaces import DatasetInfo, LabelInfo
from lssat_framework.spec import validate_spec



@pytest.fixture(scope="module")
def sklearn_metrics():
    """scikit-learn's metrics, the reference; imported by the tests that compare with it only (a
    second of import that the other tests, and the other test worker, do not pay)."""
    return pytest.importorskip("sklearn.metrics")

SCORES = {
    "random": lambda rng, n: rng.random(n),
    "tied": lambda rng, n: rng.integers(0, 4, n) / 4,  # many ties, as quantised or saturated scores are
}


def labelled(kind, n, seed):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, n)
    labels[:2] = [0, 1]  # both classes
    return SCORES[kind](rng, n), labels


def reference_eer(sklearn_metrics, scores, labels):
    """The crossing of the false-positive and false-negative rates along scikit-learn's ROC points,
    interpolated linearly between the two points around it."""
    fpr, tpr, _ = sklearn_metrics.roc_curve(labels, scores, drop_intermediate=False)
    fnr = 1 - tpr
    difference = fnr - fpr  # from 1 at (0, 0) down to -1 at (1, 1)
    i = int(np.argmax(difference <= 0))
    if difference[i] == 0:
        return fpr[i]
    weight = difference[i - 1] / (difference[i - 1] - difference[i])
    return (1 - weight) * fpr[i - 1] + weight * fpr[i]


@pytest.mark.parametrize("kind", SCORES)
@pytest.mark.parametrize("n,seed", [(7, 0), (60, 1), (500, 2)])
def test_auc_ap_roc_and_eer_equal_scikit_learns(kind, n, seed, sklearn_metrics):
    """Issue 12: metrics stay exact, ties included."""
    from lssat_tasks import metrics as M

    scores, labels = labelled(kind, n, seed)
    assert M.roc_auc(scores, labels) == pytest.approx(sklearn_metrics.roc_auc_score(labels, scores), abs=1e-12)
    assert M.average_precision(scores, labels) == pytest.approx(sklearn_metrics.average_precision_score(labels, scores), abs=1e-12)
    fpr, tpr, thresholds = M.roc_curve(scores, labels)
    expected = sklearn_metrics.roc_curve(labels, scores, drop_intermediate=False)
    np.testing.assert_allclose(fpr, expected[0]) and np.testing.assert_allclose(tpr, expected[1])
    np.testing.assert_array_equal(thresholds[1:], expected[2][1:])  # the first is +inf (older scikit-learn: max + 1)
    assert M.equal_error_rate(scores, labels) == pytest.approx(reference_eer(sklearn_metrics, scores, labels), abs=1e-12)
    from lssat_framework.train.cross import roc_points

    np.testing.assert_allclose(np.stack(roc_points(scores, labels)), np.stack(expected[:2]))


def test_ap_is_undefined_without_a_fake():
    from lssat_tasks import metrics as M

    assert np.isnan(M.average_precision(np.array([0.2, 0.4]), np.array([0, 0])))


def method_info(videos=True):
    return DatasetInfo(
        labels={"fake": LabelInfo("binary", ["real", "fake"]), "method": LabelInfo("multiclass", ["real", "Deepfakes", "FaceSwap"])},
        image_size=(16, 16), groups={"method": ["real", "Deepfakes", "FaceSwap"]}, videos=videos,
    )


def test_the_deepfake_task_reports_ap_and_each_methods_auc_against_all_reals(sklearn_metrics):
    """Issue 12: the per-manipulation breakdown within FF++ (each method's fakes against all reals)."""
    task = lssat.create("task", "deepfake")
    info = method_info()
    expected_names = task.metric_names(info)
    task.bind(info)
    rng = np.random.default_rng(3)
    method = np.repeat(rng.integers(0, 3, 40), 2)  # two frames per video
    video = np.repeat(np.arange(40), 2)
    logits = torch.tensor(rng.normal(size=80) + method * 0.5, dtype=torch.float32).unsqueeze(1)
    target = torch.tensor(method > 0).long()
    metrics = task.metrics(logits, target, {"video": torch.tensor(video), "groups": {"method": torch.tensor(method)}})
    assert list(metrics) == expected_names
    assert {"ap", "auc/Deepfakes", "auc/FaceSwap", "video_ap", "video_auc/FaceSwap"} <= set(metrics)
    scores = torch.sigmoid(logits.squeeze(1)).numpy()
    assert metrics["ap"] == pytest.approx(sklearn_metrics.average_precision_score(target.numpy(), scores))
    for value, name in ((1, "Deepfakes"), (2, "FaceSwap")):
        keep = (method == value) | (method == 0)
        assert metrics[f"auc/{name}"] == pytest.approx(sklearn_metrics.roc_auc_score(target.numpy()[keep], scores[keep]))
    video_scores = scores.reshape(40, 2).mean(1)
    keep = (method[::2] == 2) | (method[::2] == 0)
    assert metrics["video_auc/FaceSwap"] == pytest.approx(sklearn_metrics.roc_auc_score(method[::2][keep] > 0, video_scores[keep]))
    assert task.higher_is_better("auc/FaceSwap") and task.higher_is_better("ap")


def test_without_a_method_group_the_deepfake_task_reports_no_method_auc():
    task = lssat.create("task", "deepfake")
    info = DatasetInfo(labels={"fake": LabelInfo("binary", ["real", "fake"])}, image_size=(16, 16))
    assert task.metric_names(info) == ["acc", "balanced_acc", "auc", "eer", "ap"]


# ------------------------------------------------------------- lssat eval --on
def photo_frames(folder, name, count=2):
    from skimage import data

    folder.mkdir(parents=True, exist_ok=True)
    for index in range(count):
        Image.fromarray(getattr(data, name)()).resize((40, 40)).save(folder / f"{index:03d}.png")


def celebdf_root(root):
    for folder, video, name in [("Celeb-real", "id0_0000", "astronaut"), ("Celeb-synthesis", "id0_id1_0000", "chelsea"), ("YouTube-real", "00001", "coffee")]:
        photo_frames(root / folder / "frames" / video, name)
    (root / "List_of_testing_videos.txt").write_text("1 Celeb-real/id0_0000.mp4\n0 Celeb-synthesis/id0_id1_0000.mp4\n1 YouTube-real/00001.mp4\n")
    return root


def dfd_root(root):
    photo_frames(root / "original_sequences" / "actors" / "c23" / "images" / "01__hugging", "astronaut")
    photo_frames(root / "manipulated_sequences" / "DeepFakeDetection" / "c23" / "images" / "01_02__hugging__X", "chelsea")
    return root


def test_eval_on_several_test_sets_writes_one_table_and_one_roc_curve_per_set(tmp_path, tiny_spec, monkeypatch, capsys):
    """Issue 12: `lssat eval SPEC --checkpoint RUN --on NAME:ROOT ... --out DIR`."""
    from lssat_framework.train import cross, train

    tiny_spec["train"]["recon_grid"] = False
    train(validate_spec(tiny_spec), tmp_path / "run")
    spec = tmp_path / "spec.yaml"
    spec.write_text(yaml.safe_dump(tiny_spec))
    drawn = []
    original = cross.save_roc_png
    monkeypatch.setattr(cross, "save_roc_png", lambda curves, path, title: (drawn.append((title, [c[0] for c in curves])), original(curves, path, title)))
    out = tmp_path / "cross"
    arguments = ["eval", str(spec), "--checkpoint", str(tmp_path / "run"), "--out", str(out),
                 "--on", f"celebdf:{celebdf_root(tmp_path / 'Celeb-DF-v2')}", "--on", f"dfd:{dfd_root(tmp_path / 'FaceForensics++')},frames_per_video=1"]
    assert cli.main(arguments) == 0
    with open(out / "cross_dataset.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["test_set"] for row in rows] == ["synthetic-faces", "celebdf", "dfd"]
    assert [row["count"] for row in rows] == ["8", "6", "2"]  # synthetic's test split; 3 videos × 2 frames; frames_per_video=1
    # every figure says what it is: the split, frames and videos, the headline's interval and chance
    assert [row["split"] for row in rows] == ["test", "test", "test"] and [row["videos"] for row in rows] == ["", "3", "2"]
    assert all(float(row["auc_low"]) <= float(row["auc"]) <= float(row["auc_high"]) for row in rows[:2]) and rows[2]["auc_low"] == "nan"  # 2 videos: no interval
    assert [row["chance"] for row in rows] == ["0.5"] * 3
    stored = np.load(out / "cross_dataset_predictions" / "celebdf.npz", allow_pickle=False)  # each sample's outputs
    assert stored["logits"].shape == (6, 1) and len(set(stored["video"].tolist())) == 3
    assert all(0 <= float(row["auc"]) <= 1 and 0 <= float(row["ap"]) <= 1 for row in rows)
    assert rows[1]["video_auc"] and not rows[0]["video_auc"] and rows[2]["auc/DeepFakeDetection"]
    table = (out / "cross_dataset.md").read_text()
    assert table.splitlines()[0].startswith("| test_set | dataset | split | count | videos | auc_low | auc_high | chance | acc |") and "| celebdf | celebdf |" in table
    assert table in capsys.readouterr().out
    assert drawn == [("tiny: best (epoch 1, auc " + drawn[0][0].split("auc ")[1], ["synthetic-faces (test)", "celebdf (test)", "dfd (test)"])]
    assert drawn[0][0].endswith("weights")
    assert Image.open(out / "cross_dataset_roc.png").size == (500, 500)


def test_eval_on_an_unknown_or_malformed_test_set_is_one_clear_error():
    from lssat_framework.train.cross import parse_test_set, test_set_data

    with pytest.raises(LssatError, match=r"--on 'celebdf': expected NAME:ROOT"):
        parse_test_set("celebdf")
    with pytest.raises(LssatError, match=r"expected KEY=VALUE after the root, got 'c40'"):
        parse_test_set("dfd:/data/ffpp,c40")
    assert parse_test_set("dfd:/data/ffpp,compression=c40").params == {"compression": "c40"}
    with pytest.raises(LssatError, match=r"unknown dataset 'celebdff'; did you mean 'celebdf'"):
        test_set_data(parse_test_set("celebdff:/data/Celeb-DF-v2"), {})
    data = test_set_data(parse_test_set("deepfakebench:/data/Celeb-DF-v2.json,root=/data/rgb"), {"params": {"image_size": 64, "train": 10}})
    assert data == {"name": "deepfakebench", "params": {"image_size": 64, "json_file": "/data/Celeb-DF-v2.json", "root": "/data/rgb"}}


# ------------------------------------------------------------- the spec's evaluate: list
def test_bad_evaluate_items_are_reported_together_with_their_dotted_paths(tmp_path, tiny_spec):
    """Issue 12: each test set of `evaluate:` is validated as the `data` section is, in stage 2."""
    from lssat_framework.errors import SpecError
    from lssat_framework.spec import load_spec

    tiny_spec["evaluate"] = [
        {"name": "celebdf", "params": {"root": "/data/Celeb-DF-v2"}, "label": "celebdf-test"},
        {"name": "celebdff", "params": {"root": "/data/Celeb-DF-v2"}},
        {"name": "dfd", "params": {"frames_per_video": 0}},
        {"name": "dfdc", "params": {"root": "/data/DFDC"}, "lable": "dfdc-test"},
    ]
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(tiny_spec, sort_keys=False))
    with pytest.raises(SpecError) as caught:
        load_spec(path)
    problems = dict(caught.value.problems)
    assert len(problems) == 4, problems
    assert "unknown dataset 'celebdff'" in problems[next(p for p in problems if p.startswith("evaluate[1].name (line "))]
    assert any(p.startswith("evaluate[2].params.root (line ") for p in problems)  # required: where the data is
    assert any(p.startswith("evaluate[2].params.frames_per_video (line ") for p in problems)
    assert "did you mean 'label'" in problems[next(p for p in problems if p.startswith("evaluate[3].lable"))]
    tiny_spec["evaluate"] = tiny_spec["evaluate"][:1]
    assert validate_spec(tiny_spec).spec.evaluate[0].label == "celebdf-test"


def test_a_run_with_an_evaluate_list_tests_its_weights_on_each_set_and_keeps_a_missing_one_as_an_error(tmp_path, tiny_spec, capsys):
    """Issue 12: the run writes the cross-dataset table and the ROC curves into its directory and
    each test set's headline into summary.json; a test set whose data is missing loses nothing."""
    import json

    from lssat_framework.train import train

    tiny_spec["train"]["recon_grid"] = False
    tiny_spec["evaluate"] = [
        {"name": "celebdf", "params": {"root": str(celebdf_root(tmp_path / "Celeb-DF-v2"))}, "label": "celebdf-test"},
        {"name": "dfd", "params": {"root": str(tmp_path / "not-there")}},
    ]
    run = tmp_path / "run"
    returned = train(validate_spec(tiny_spec), run)
    assert "not-there" in capsys.readouterr().err
    with open(run / "cross_dataset.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["test_set"] for row in rows] == ["synthetic-faces", "celebdf-test", "dfd"]
    assert [row["count"] for row in rows] == ["8", "6", ""] and "not-there" in rows[2]["error"] and not rows[1]["error"]
    assert "| celebdf-test | celebdf |" in (run / "cross_dataset.md").read_text()
    assert Image.open(run / "cross_dataset_roc.png").size == (500, 500)
    summary = json.loads((run / "summary.json").read_text())
    assert summary["cross"] == returned["cross"]
    assert summary["final"]["count"] == 13  # the training results stay
    celebdf = summary["cross"]["celebdf-test"]
    assert set(celebdf) == {"dataset", "count", "auc", "video_auc"} and celebdf["dataset"] == "celebdf" and celebdf["count"] == 6
    assert 0 <= celebdf["auc"] <= 1 and celebdf["auc"] == pytest.approx(float(rows[1]["auc"]))
    assert set(summary["cross"]["dfd"]) == {"dataset", "error"} and "not-there" in summary["cross"]["dfd"]["error"]


def test_eval_uses_the_specs_evaluate_list_and_adds_the_on_test_sets(tmp_path, tiny_spec):
    """Issue 12: `lssat eval SPEC --checkpoint RUN` with `evaluate:` in the spec and no --on."""
    from lssat_framework.train import train

    tiny_spec["train"]["recon_grid"] = False
    train(validate_spec(tiny_spec), tmp_path / "run")
    tiny_spec["evaluate"] = [{"name": "celebdf", "params": {"root": str(celebdf_root(tmp_path / "Celeb-DF-v2"))}}]
    spec = tmp_path / "spec.yaml"
    spec.write_text(yaml.safe_dump(tiny_spec))
    for extra, expected in (([], ["synthetic-faces", "celebdf"]), (["--on", f"dfd:{dfd_root(tmp_path / 'FaceForensics++')}"], ["synthetic-faces", "celebdf", "dfd"])):
        out = tmp_path / f"cross{len(extra)}"
        assert cli.main(["eval", str(spec), "--checkpoint", str(tmp_path / "run"), "--out", str(out), *extra]) == 0
        with open(out / "cross_dataset.csv") as handle:
            assert [row["test_set"] for row in csv.DictReader(handle)] == expected


def test_deepfakebenchs_video_auc_groups_frames_by_their_folders_name_alone(tmp_path):
    """Published tables group frames by the parent folder's name (DeepfakeBench's
    training/metrics/utils.py: mean frame score, int(mean label), sklearn's roc_curve and auc), so
    FF++ fakes of two methods named 000_003 are one video there; `video_auc` keeps them apart."""
    from sklearn.metrics import auc, roc_curve

    from lssat_datasets.files import ImageFiles, Sample

    rng = np.random.default_rng(0)
    frames = []
    for index in range(12):
        real = tmp_path / "original" / f"{index:03d}"
        frames += [(real / f"{f}.png", 0, index) for f in range(3)]
        for method_index, method in enumerate(("Deepfakes", "Face2Face")):
            fake = tmp_path / method / f"{index:03d}_{(index + 1) % 12:03d}"
            frames += [(fake / f"{f}.png", 1, 100 + 2 * index + method_index) for f in range(3)]
    samples = [Sample(path, {"fake": label}, video=video) for path, label, video in frames]
    split = ImageFiles(samples, image_size=8)
    folder = torch.tensor([split.folder_ids[s.path.parent.name] for s in samples])
    scores = rng.uniform(size=len(samples))
    logits = torch.from_numpy(np.log(scores / (1 - scores))).float().unsqueeze(-1)
    target = torch.tensor([label for _, label, _ in frames])
    task = lssat.create("task", "deepfake")
    task.bind(DatasetInfo(labels={"fake": LabelInfo("binary", ["real", "fake"])}, image_size=(8, 8), videos=True))
    metrics = task.metrics(logits, target, {"video": torch.tensor([v for *_, v in frames]), "video_folder": folder, "groups": {}})

    grouped = {}
    for (path, label, _), score in zip(frames, task.scores(logits).numpy()):
        grouped.setdefault(path.parent.name, []).append((score, label))
    video_scores = [np.mean([s for s, _ in members]) for members in grouped.values()]
    video_labels = [int(np.mean([label for _, label in members])) for members in grouped.values()]
    fpr, tpr, _ = roc_curve(video_labels, video_scores)
    assert len(grouped) == 24 and metrics["video_auc_dfb"] == pytest.approx(auc(fpr, tpr), abs=1e-12)
    assert metrics["video_auc_dfb"] != pytest.approx(metrics["video_auc"])  # 36 videos of our own, 24 folders
