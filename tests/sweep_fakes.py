"""A stand-in for the trainer that writes a run's files at once, for the sweep tests that test
the sweep and not the training."""

import csv
import json

import pytest
import yaml


def fake_trainer(score, fail=None):
    """A stand-in for ``lssat_framework.train.train``: ``score(raw) -> (value, low, high)``;
    ``fail(raw)`` true raises inside the run. Records every run it makes."""
    made = []

    def train(resolved, out_dir, resume=False):
        raw = resolved.raw
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / "spec.yaml").write_text(yaml.safe_dump(raw, sort_keys=False))
        made.append(out_dir.name)
        if fail and fail(raw):
            raise RuntimeError("boom: the model exploded")
        task = resolved.components["task"].build()
        value, low, high = score(raw)
        (out_dir / "metrics.jsonl").write_text(json.dumps({"epoch": 1, f"val_{task.headline}": value}) + "\n")
        summary = {
            "name": raw["name"], "task": raw["task"]["name"], "headline": task.headline, "seed": raw.get("seed", 0),
            "final": {task.headline: value}, "final_interval": {"low": low, "high": high, "level": 0.95, "resamples": 100, "unit": "sample"},
            "chance": 0.5, "best": {"epoch": 1, "metric": task.headline, "value": value}, "epochs": 1,
            "parameters": 1_000_000 * raw["backbone"]["params"].get("depth", 1), "images_per_s": 10.0, "peak_mem_mb": 100.0,
        }
        if raw.get("evaluate"):  # as the trainer records the test sets of `evaluate:`; the last one's data is missing
            *found, missing = [item.get("label") or item["name"] for item in raw["evaluate"]]
            summary["cross"] = {label: {"dataset": label, "count": 6, task.headline: value - 0.1, f"video_{task.headline}": value - 0.05} for label in found}
            summary["cross"][missing] = {"dataset": missing, "error": f"{missing}: expected the folder /data/{missing}, which does not exist"}
        (out_dir / "summary.json").write_text(json.dumps(summary))
        return summary

    train.made = made
    return train


@pytest.fixture
def trainer(monkeypatch):
    def install(score=lambda raw: (0.5, 0.4, 0.6), fail=None):
        fake = fake_trainer(score, fail)
        monkeypatch.setattr("lssat_framework.train.train", fake)
        return fake

    return install


def write_spec(tmp_path, spec, name="sweep.yaml"):
    path = tmp_path / name
    path.write_text(yaml.safe_dump(spec))
    return path


def read_csv(path):
    with open(path) as handle:
        return list(csv.DictReader(handle))
