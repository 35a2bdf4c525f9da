"""`lssat predict RUN VIDEO`: a video made with PyAV from scikit-image's astronaut, and a tiny
trained deepfake run. Each frame's score equals `lssat eval`'s score of the crop `lssat prepare`
writes for that frame; the video's score is the evaluation's aggregation; the picture's size."""

import json

import numpy as np
import pytest
import torch

from lssat_framework import cli
from predict_media import make_video, prepared_crops, read_csv, train_run


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    folder = tmp_path_factory.mktemp("predict")
    return train_run(folder), make_video(folder / "clip.mp4")


def deepfakebench_json(frames: list, folder) -> dict:
    """A DeepfakeBench dataset JSON listing the prepared frames as one test video."""
    video = {"label": "FF-real", "frames": [str(f) for f in frames]}
    listed = {split: {"clip": video} for split in ("train", "val", "test")}
    path = folder / "dataset.json"
    path.write_text(json.dumps({"clips": {"FF-real": listed}}))
    return path


def eval_of_prepared_crops(run, video, folder, image_size=32):
    """`lssat eval`'s evaluation (the run's weights, its spec's model) of the crops prepare writes."""
    from lssat_framework.spec.validation import load_spec
    from lssat_framework.train.trained import checkpoint_evaluation

    crops = prepared_crops(video, folder / "frames")
    spec = load_spec(run / "spec.yaml", [f"data={json.dumps({'name': 'deepfakebench', 'params': {'json_file': str(deepfakebench_json(crops, folder)), 'image_size': image_size}})}"])
    evaluation, task = checkpoint_evaluation(spec, run, "test")
    return evaluation, task


def test_each_frame_scores_as_lssat_eval_scores_the_crop_prepare_writes(trained, tmp_path):
    run, video = trained
    assert cli.main(["predict", str(run), str(video), "--out", str(tmp_path / "out")]) == 0
    frames = read_csv(tmp_path / "out" / "frames.csv")
    evaluation, task = eval_of_prepared_crops(run, video, tmp_path)
    expected = task.scores(evaluation.logits).numpy()
    assert len(frames) == len(expected) == 8
    assert np.allclose([float(r["p_fake"]) for r in frames], expected, atol=1e-6)
    assert all(r["face_found"] == "True" and float(r["height"]) > 20 for r in frames)
    assert [float(r["time"]) for r in frames] == sorted(float(r["time"]) for r in frames)


def test_the_video_score_is_the_evaluations_aggregation(trained, tmp_path):
    from lssat_framework.train.evaluation import video_scores

    run, video = trained
    assert cli.main(["predict", str(run), str(video), "--out", str(tmp_path / "out"), "--threshold", "0.3"]) == 0
    row, = read_csv(tmp_path / "out" / "predictions.csv")
    evaluation, task = eval_of_prepared_crops(run, video, tmp_path)
    _, aggregated = video_scores(task.scores(evaluation.logits), evaluation.extras["video"])
    assert float(row["p_fake"]) == pytest.approx(float(aggregated[0]), abs=1e-6)
    assert float(row["low"]) <= float(row["p_fake"]) <= float(row["high"])
    assert row["status"] == "scored" and row["frames_with_face"] == "8" and row["threshold"] == "0.3"
    assert row["label"] == ("fake" if float(row["p_fake"]) >= 0.3 else "real") and row["label"] in row["verdict"]
    assert all(r["label"] == ("fake" if float(r["p_fake"]) >= 0.3 else "real") for r in read_csv(tmp_path / "out" / "frames.csv"))


def test_video_scores_rank_as_the_deepfake_tasks_video_metrics():
    """The mean per video that `predict` answers is what the task's video AUC ranks."""
    from sklearn.metrics import roc_auc_score

    from lssat_framework.plugins import get_plugin_manager
    from lssat_framework.train.evaluation import video_scores

    task = get_plugin_manager().get("task", "deepfake").build()
    generator = torch.Generator().manual_seed(3)
    video = torch.randint(12, (90,), generator=generator)
    target = (video % 2).long()
    logits = torch.randn(90, 1, generator=generator) + target[:, None] * 0.5
    metrics = task.metrics(logits, target, {"video": video})
    ids, scores = video_scores(task.scores(logits), video)
    assert metrics["video_auc"] == pytest.approx(roc_auc_score((ids % 2).numpy(), scores.numpy()), abs=1e-12)


def test_the_picture_of_a_video_has_its_size_and_json_holds_every_frame(trained, tmp_path, capsys):
    from PIL import Image

    from lssat_framework.predict.picture import DPI, FIGURE_SIZE

    run, video = trained
    assert cli.main(["predict", str(run), str(video), "--out", str(tmp_path / "out"), "--json"]) == 0
    with Image.open(tmp_path / "out" / "clip.png") as picture:
        assert picture.size == (FIGURE_SIZE[0] * DPI, FIGURE_SIZE[1] * DPI) == (1000, 560)
    answer = json.loads(capsys.readouterr().out)
    assert answer["threshold"] == 0.5 and len(answer["inputs"][0]["frames"]) == 8


def test_the_runs_recorded_preparation_is_used_and_each_flag_overrides_it(trained, tmp_path, capsys):
    import shutil

    run, video = trained
    copy = tmp_path / "run"
    shutil.copytree(run, copy)
    info = json.loads((copy / "dataset.json").read_text())
    info["preparation"] = {"profile": None, "frames": 3, "sampling": "spans", "layout": "lssat", "detector": "lbp-cascade",
                           "detector_params": {}, "align": False, "landmarker": None, "landmarker_params": {}, "scale": 1.3, "size": 64}
    (copy / "dataset.json").write_text(json.dumps(info))
    assert cli.main(["predict", str(copy), str(video), "--out", str(tmp_path / "a")]) == 0
    assert len(read_csv(tmp_path / "a" / "frames.csv")) == 3
    assert "as the run's dataset was prepared" in capsys.readouterr().err
    assert cli.main(["predict", str(copy), str(video), "--out", str(tmp_path / "b"), "--frames", "5"]) == 0
    assert len(read_csv(tmp_path / "b" / "frames.csv")) == 5
    assert cli.main(["predict", str(run), str(video), "--out", str(tmp_path / "c")]) == 0
    assert "recorded no preparation" in capsys.readouterr().err


def test_two_faces_are_two_tracks_with_all_faces(trained, tmp_path):
    run, _ = trained
    video = make_video(tmp_path / "two.mp4", frames=12, size=(480, 240), faces=2)
    assert cli.main(["predict", str(run), str(video), "--out", str(tmp_path / "one")]) == 0
    assert [r["track"] for r in read_csv(tmp_path / "one" / "predictions.csv")] == ["0"]
    assert cli.main(["predict", str(run), str(video), "--out", str(tmp_path / "all"), "--all-faces"]) == 0
    rows = read_csv(tmp_path / "all" / "predictions.csv")
    # the two faces are the two largest tracks; the cascade may add a stray track of its own in a
    # few frames on some thread counts (a false alarm seen twice stays a track)
    assert [r["track"] for r in rows][:2] == ["0", "1"] and all(r["status"] == "scored" for r in rows[:2])
    lefts = {r["track"]: float(r["left"]) for r in read_csv(tmp_path / "all" / "frames.csv") if r["face_found"] == "True"}
    assert abs(lefts["0"] - lefts["1"]) > 100  # two faces, side by side


def test_a_face_found_in_one_sampled_frame_alone_is_no_track_of_its_own():
    """A detector's false alarm in one frame made a third track beside the two real faces."""
    from lssat_datasets.reader import link_faces

    left, right, stray = (10, 10, 40, 40), (300, 10, 40, 40), (150, 200, 20, 20)
    detections = [[left, right], [left, right, stray], [left, right], [left, right]]
    tracks = link_faces(detections)
    assert len(tracks) == 2 and all(sum(box is not None for box in track) == 4 for track in tracks)
    assert len(link_faces([[stray]])) == 1  # a photo: its one face is its track
