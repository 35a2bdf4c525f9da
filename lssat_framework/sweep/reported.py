"""The figures a finished run reports, and which weights and split they come from.

``summary.json``'s ``reported`` block holds them, all from one set of weights: ``weights``
(``best``: the best checkpoint by ``train.best_metric``; ``final`` where no epoch was best), its
``epoch``, the ``split`` (``test`` where the dataset has one, else ``val``), the task's
``metrics`` of those weights there, the headline's bootstrap ``interval`` and ``chance``, and the
numbers of ``samples`` and ``videos`` evaluated. A summary written before that block existed
gives the final epoch's metrics, interval and chance, labelled as such.
"""

from __future__ import annotations

from typing import Any

SPLITS = {"val": "validation", "test": "test", "train": "training"}


def figures(summary: dict[str, Any]) -> dict[str, Any]:
    """value, low, high, chance, weights, epoch, split, samples, videos of a run's headline."""
    headline = summary.get("headline")
    reported = summary.get("reported")
    if isinstance(reported, dict):
        interval = reported.get("interval") or {}
        return {
            "value": (reported.get("metrics") or {}).get(headline), "low": interval.get("low"), "high": interval.get("high"),
            "chance": reported.get("chance"), "weights": reported.get("weights"), "epoch": reported.get("epoch"),
            "split": reported.get("split"), "samples": reported.get("samples"), "videos": reported.get("videos"),
        }
    interval = summary.get("final_interval") or {}
    final = summary.get("final") or {}
    return {
        "value": final.get(headline), "low": interval.get("low"), "high": interval.get("high"), "chance": summary.get("chance"),
        "weights": "final", "epoch": summary.get("epochs"), "split": "val", "samples": final.get("count"), "videos": None,
    }


def label(weights: str | None, epoch: Any, split: str | None) -> str:
    """``best (epoch 3), validation``."""
    at = f" (epoch {epoch})" if epoch is not None else ""
    return f"{weights or 'unknown weights'}{at}, {SPLITS.get(split or '', split or 'unknown split')}"


def describe(runs: list) -> str:
    """The weights and split of several runs' figures at once: ``best (epochs 2–4), validation``."""
    kinds: dict[tuple[str, str], list[int]] = {}
    for run in runs:
        kinds.setdefault((run.weights or "unknown weights", SPLITS.get(run.split or "", run.split or "unknown split")), []).append(run.epoch)
    parts = []
    for (weights, split), epochs in kinds.items():
        known = sorted(e for e in epochs if e is not None)
        if not known:
            at = ""
        elif known[0] == known[-1]:
            at = f" (epoch {known[0]})"
        else:
            at = f" (epochs {known[0]}–{known[-1]})"
        parts.append(f"{weights}{at}, {split}")
    return "; ".join(parts)
