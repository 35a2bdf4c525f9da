"""How runs learned and how they separate: the training curves (the headline metric on
validation and every loss term, per epoch, from ``metrics.jsonl``) and ROC curves (from the
per-sample outputs a run kept for its test sets)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .drawing import figure


def curve_keys(records: list[dict[str, Any]], headline: str | None) -> list[str]:
    """The panels: ``val_<headline>``, then ``train_loss`` and its terms, in the order first seen."""
    keys = [f"val_{headline}"] if headline else []
    for record in records:
        keys += [k for k in record if k.startswith("train_loss") and k not in keys]
    return [k for k in keys if any(isinstance(r.get(k), (int, float)) for r in records)]


def training_curves(series: dict[str, list[dict[str, Any]]], headline: str | None, title: str = ""):
    """One panel per curve (:func:`curve_keys`), one line per run of ``series`` (name -> its
    records), epochs on a shared axis; the legend names each run."""
    records = [r for rs in series.values() for r in rs]
    keys = curve_keys(records, headline) or ["train_loss"]
    dots = len({r["epoch"] for r in records}) <= 12  # a mark on every epoch where they stay apart
    columns = min(3, len(keys))
    rows = -(-len(keys) // columns)
    fig, axes = figure(rows, columns, figsize=(3.0 * columns + (1.8 if len(series) > 1 else 0.3), 2.3 * rows + 0.4), squeeze=False, sharex=True)
    for index, key in enumerate(keys):
        ax = axes[index // columns][index % columns]
        for number, (name, runs) in enumerate(series.items()):
            found = points(runs, key)
            if found:
                style = ["-", "--", ":", "-."][number // 10 % 4]
                ax.plot(*zip(*found), style, marker="o" if dots else None, markersize=3, color=f"C{number % 10}", label=name, gid=f"curve:{key}:{name}")
        ax.set_title(key)
        ax.set_xlabel("epoch")
        ax.set_ylabel(key.removeprefix("val_").removeprefix("train_"))
        ax.xaxis.get_major_locator().set_params(integer=True)
    for index in range(len(keys), rows * columns):
        axes[index // columns][index % columns].set_axis_off()
    if len(series) > 1:
        handles, labels = axes[0][0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False, title="run")
    if title:
        fig.suptitle(title, x=0.01, ha="left", fontsize=9)
    fig.tight_layout()
    return fig


def points(records: list[dict[str, Any]], key: str) -> list[tuple[int, float]]:
    """(epoch, value) of every record with a number under ``key``."""
    return [(r["epoch"], r[key]) for r in records if isinstance(r.get(key), (int, float))]


def sparklines(records: list[dict[str, Any]], keys: list[str]):
    """One run's ``keys`` per epoch, a small panel each with the line alone: no axes and no text
    (the caption gives the numbers). A sweep's page has one for each of its variants (45 in the
    study), rebuilt whenever the sweep collects: a tenth of the time of panels with axes (10 ms against
    100, measured), whose tick labels were too small to read at this size anyway."""
    fig, axes = figure(1, len(keys), figsize=(1.7 * len(keys), 0.55), squeeze=False)
    for ax, key in zip(axes[0], keys):
        found = points(records, key)
        if found:
            ax.plot(*zip(*found), "-", marker="o" if len(found) <= 12 else None, markersize=2.5, linewidth=1.2, color="C0", gid=f"sparkline:{key}")
        ax.margins(0.08, 0.2)  # the first and last dots whole
        ax.set_axis_off()
    fig.subplots_adjust(left=0.02, right=0.98, bottom=0.05, top=0.95, wspace=0.25)
    return fig


def roc_curves(panels: dict[str, list[tuple[str, np.ndarray, np.ndarray]]]):
    """One square panel per test set, one curve per run (with its area under the curve)."""
    count = max(1, len(panels))
    fig, axes = figure(1, count, figsize=(3.4 * count + 0.3, 3.6), squeeze=False, sharey=True)
    for ax, (test_set, curves) in zip(axes[0], panels.items()):
        for number, (name, fpr, tpr) in enumerate(curves):
            area = float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2))
            ax.plot(fpr, tpr, color=f"C{number % 10}", linewidth=1.2, label=f"{name} ({area:.3f})", gid=f"roc:{test_set}:{name}")
        ax.plot([0, 1], [0, 1], color="gray", linestyle=":", linewidth=1)
        ax.set(xlim=(0, 1), ylim=(0, 1.01), xlabel="false positive rate", ylabel="true positive rate", title=test_set, aspect="equal")
        ax.legend(loc="lower right", frameon=False, fontsize=6, title="run (area)")
    fig.tight_layout()
    return fig
