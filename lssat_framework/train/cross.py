"""Cross-dataset evaluation: one trained model on several test sets, as generalisation is
reported (trained on one dataset, tested on others it never saw).

``lssat eval SPEC --checkpoint RUN --on NAME:ROOT ... --out DIR`` evaluates the weights on the
spec's own dataset and on each ``--on`` dataset (its ``test`` split, else ``val``), and writes
``cross_dataset.csv`` and ``cross_dataset.md`` (one row per test set, every metric the task
reports), ``cross_dataset_predictions/<test set>.npz`` (each sample's outputs) and
``cross_dataset_roc.png`` (one ROC curve per test set, for tasks with one score per
sample). A test set is the run's spec with its ``data`` section replaced: the dataset ``NAME`` with
``ROOT`` as its first required param (``root`` for the shipped readers), the run's data params that
the dataset also takes (``image_size``, ...), and any ``KEY=VALUE`` given after commas
(``--on NAME:/data/listing.json,root=/data/frames``; values are YAML).

The spec's ``evaluate:`` list names test sets the same way (``{name: celebdf, params: {root:
/data/Celeb-DF-v2}, label: ...}``); ``lssat eval`` evaluates those, then the ``--on`` ones. A run
whose spec has the list evaluates its weights on them when it ends (:func:`evaluate_after_training`).
"""

from __future__ import annotations

import csv
import math
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import LssatError
from ..spec.resolved import ResolvedSpec
from ..spec.schema import Spec
from ..spec.validation import cross_dataset_params, validate_spec
from ..spec.yaml_loading import parse_yaml
from .evaluation import evaluation_arrays
from .rundir import find_weights
from .tensor_tree import write_npz_atomic
from .trained import checkpoint_evaluation, spec_for_checkpoint

#: the splits a test set is evaluated on: the first the dataset has
TEST_SPLITS = ("test", "val")
TABLE = "cross_dataset"


@dataclass
class TestSet:
    """One ``--on NAME:ROOT[,KEY=VALUE...]`` or one item of the spec's ``evaluate:``."""

    dataset: str
    #: ``--on``'s ROOT: the dataset's first required param ("": ``params`` say where the data is)
    location: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    label: str = ""
    #: where it was named, for messages: ``--on celebdf:/data/Celeb-DF-v2``, ``evaluate[1]``
    origin: str = ""


def parse_test_set(text: str) -> TestSet:
    name, colon, rest = text.partition(":")
    location, *pairs = rest.split(",")
    if not colon or not name or not location:
        raise LssatError(f"--on {text!r}: expected NAME:ROOT, a dataset name from `lssat list dataset` and where its data is")
    params = {}
    for pair in pairs:
        key, equals, value = pair.partition("=")
        if not equals or not key:
            raise LssatError(f"--on {text!r}: expected KEY=VALUE after the root, got {pair!r}")
        params[key.strip()] = parse_yaml(value)
    return TestSet(name, location, params, origin=f"--on {text}")


def spec_test_sets(spec: Spec) -> list[TestSet]:
    """The test sets of the spec's ``evaluate:`` list."""
    return [TestSet(item.name, params=dict(item.params), label=item.label or "", origin=f"evaluate[{index}]") for index, item in enumerate(spec.evaluate)]


def test_set_data(test_set: TestSet, run_data: dict[str, Any]) -> dict[str, Any]:
    """The ``data`` section of a test set, the run's data params carried over where they fit."""
    from ..plugins.manager import get_plugin_manager

    component = get_plugin_manager().get("dataset", test_set.dataset)
    params = dict(test_set.params)
    if test_set.location:
        fields = component.params_model.model_fields if component.params_model is not None else {}
        required = [name for name, info in fields.items() if info.is_required()]
        if not required:
            raise LssatError(f"--on {test_set.dataset}: this dataset takes no location; it is not a test set on disk")
        params = {required[0]: test_set.location, **params}
    return {"name": test_set.dataset, "params": cross_dataset_params(component, params, run_data)}


def _in_words(exc: Exception) -> str:
    return str(exc).strip() if isinstance(exc, LssatError) else f"{type(exc).__name__}: {exc}"


def _labels(names: list[str]) -> list[str]:
    """Unique row labels: the dataset's name, numbered when it repeats."""
    seen: dict[str, int] = {}
    labels = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        labels.append(name if names.count(name) == 1 else f"{name} #{seen[name]}")
    return labels


def labelled_test_sets(base: ResolvedSpec, on: list[str] = ()) -> list[TestSet]:
    """The spec's own dataset, its ``evaluate:`` test sets, then the ``--on`` ones, each with its row's label."""
    test_sets = [TestSet(base.raw["data"]["name"], origin="data")] + spec_test_sets(base.spec) + [parse_test_set(text) for text in on]
    for test_set, label in zip(test_sets, _labels([t.label or t.dataset for t in test_sets])):
        test_set.label = label
    return test_sets


def cross_evaluate(
    resolved: ResolvedSpec | None, checkpoint: str | Path, on: list[str], out: str | Path, overrides: list[str] = (),
    alone=None, keep_going: bool = False,
) -> list[dict[str, Any]]:
    """Evaluate ``checkpoint`` on the spec's dataset, each test set of its ``evaluate:`` list and
    every ``--on`` test set; write the table and the ROC curves to ``out``; return the rows.
    ``alone``: see :func:`~.trained.checkpoint_evaluation`. ``keep_going``: a test set that
    cannot be evaluated is a row with its ``error``, and the others are evaluated still."""
    weights = find_weights(checkpoint)
    base = spec_for_checkpoint(resolved, weights, list(overrides))
    test_sets = labelled_test_sets(base, on)
    rows, curves, outputs = [], [], {}
    for index, test_set in enumerate(test_sets):
        row = {"test_set": test_set.label, "dataset": test_set.dataset, "root": test_set.location}
        try:
            spec = base
            if index:
                data = {**{k: v for k, v in base.raw.items() if k != "evaluate"}, "data": test_set_data(test_set, base.raw["data"])}
                spec = validate_spec(data, source=test_set.origin)
            row["root"] = test_set.location or str((spec.raw["data"].get("params") or {}).get("root", ""))
            evaluation, task = checkpoint_evaluation(spec, checkpoint, TEST_SPLITS, alone=alone)
        except Exception as exc:
            if not keep_going:
                raise
            rows.append({**row, "error": _in_words(exc)})
            print(f"lssat: warning: test set {test_set.label} ({test_set.origin}) not evaluated: {rows[-1]['error']}", file=sys.stderr)
            continue
        rows.append({**row, **described(evaluation, task)})
        outputs[test_set.label] = evaluation_arrays(evaluation)
        scores = task.scores(evaluation.logits).float().numpy()
        if scores.ndim == 1:  # one score per sample: a ROC curve
            curves.append((f"{test_set.label} ({evaluation.split})", *roc_points(scores, evaluation.target.numpy())))
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    write_table(rows, out)
    save_outputs(outputs, out / f"{TABLE}_predictions")
    if curves:
        title = f"{base.spec.name}: {weights.description} weights"
        save_roc_png(curves, out / f"{TABLE}_roc.png", title)
    return rows


def save_outputs(outputs: dict[str, dict[str, np.ndarray]], folder: Path) -> None:
    """Each test set's per-sample outputs (``<test set>.npz``: logits, targets, videos, groups),
    which an interval or a comparison can be computed from again."""
    from ..files.safe import slug

    folder.mkdir(parents=True, exist_ok=True)
    for label, arrays in outputs.items():
        write_npz_atomic(folder / f"{slug(label)}.npz", arrays)


def described(evaluation, task) -> dict[str, Any]:
    """What a figure needs beside it: the split, the counts (``count``: samples, i.e. frames;
    ``videos``), the headline's 95 % interval and chance, then every metric."""
    from .evaluation import headline_figures

    figures = headline_figures(task, evaluation)
    interval = figures["interval"] or {}
    return {
        "split": evaluation.split, "count": figures["samples"], "videos": figures["videos"] if figures["videos"] is not None else "",
        f"{task.headline}_low": interval.get("low", float("nan")), f"{task.headline}_high": interval.get("high", float("nan")),
        "chance": figures["chance"], **evaluation.metrics,
    }


def evaluate_after_training(resolved: ResolvedSpec, run_dir: Path, accelerator, headline: str) -> dict[str, dict[str, Any]]:
    """A finished run's weights (best, else final) on its spec's dataset and on each test set of
    its ``evaluate:`` list, on this process alone: the table and the ROC curves into ``run_dir``;
    returns each test set's headline (and its ``video_`` form where the task reports it), or its
    error, for ``summary.json``. A test set that cannot be evaluated never fails the run."""
    try:
        rows = cross_evaluate(resolved, run_dir, [], run_dir, alone=accelerator, keep_going=True)
    except Exception as exc:  # e.g. the table cannot be written: the run's own results stay
        error = _in_words(exc)
        print(f"lssat: warning: the cross-dataset evaluation of {run_dir} failed: {error}", file=sys.stderr)
        rows = [{"test_set": t.label, "dataset": t.dataset, "error": error} for t in labelled_test_sets(resolved)]
    failed = [row["test_set"] for row in rows if "error" in row]
    print(f"cross-dataset table: {run_dir / TABLE}.md" + (f" (not evaluated: {', '.join(failed)})" if failed else ""))
    kept = ("dataset", "count", headline, f"video_{headline}", "error")
    return {row["test_set"]: {key: row[key] for key in kept if key in row} for row in rows}


def roc_points(scores: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """False- and true-positive rates at every distinct threshold, from (0, 0) to (1, 1)."""
    labels = np.asarray(labels).astype(bool)
    order = np.argsort(-scores, kind="mergesort")
    ordered, hits = scores[order], labels[order]
    last = np.r_[np.flatnonzero(np.diff(ordered)), len(ordered) - 1]
    tp = np.cumsum(hits)[last]
    fp = last + 1 - tp
    positives, negatives = max(int(labels.sum()), 1), max(int((~labels).sum()), 1)
    return np.r_[0.0, fp / negatives], np.r_[0.0, tp / positives]


def _format(value: Any) -> str:
    if isinstance(value, float):
        return "" if math.isnan(value) else f"{value:.4f}"
    return " ".join(str(value).split()).replace("|", "\\|")  # one table cell: an error on one line


def write_table(rows: list[dict[str, Any]], out: Path) -> None:
    columns: list[str] = []
    for row in rows:
        columns += [key for key in row if key not in columns]
    with open(out / f"{TABLE}.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, restval="")
        writer.writeheader()
        writer.writerows(rows)
    shown = [c for c in columns if c != "root"]
    lines = ["| " + " | ".join(shown) + " |", "|" + "---|" * len(shown)]
    lines += ["| " + " | ".join(_format(row.get(c, "")) for c in shown) + " |" for row in rows]
    (out / f"{TABLE}.md").write_text("\n".join(lines) + "\n")


def save_roc_png(curves: list[tuple[str, np.ndarray, np.ndarray]], path: Path, title: str = "") -> None:
    from ..images import pyplot, save_figure

    fig, ax = pyplot().subplots(figsize=(5, 5))
    for label, fpr, tpr in curves:
        area = float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2))
        ax.plot(fpr, tpr, label=f"{label} (area {area:.3f})")
    ax.plot([0, 1], [0, 1], color="gray", linestyle=":", linewidth=1)
    ax.set_xlabel("false positive rate")
    ax.set_ylabel("true positive rate")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.01)
    ax.legend(loc="lower right", fontsize=8)
    if title:
        ax.set_title(title, fontsize=9)
    fig.tight_layout()
    save_figure(fig, path, dpi=100)
