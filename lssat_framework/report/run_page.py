"""The page of one run folder: what it reports (``summary.json``), its training curves, its
reconstruction grids over the epochs, ROC curves and the cross-dataset table where the spec has
``evaluate:``, the task's own pictures, its spec and its environment."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from . import numbers, sections
from .folder import RunFiles, read_run
from .page import document, esc, image, paragraph, table
from .pictures import embedded

#: reconstruction grids shown at most (evenly over the epochs, the last always among them)
MAX_GRIDS = 12


def summary(run: RunFiles) -> str:
    figures = run.summary or {}
    if not figures:
        return paragraph("Not finished: no summary.json yet. The curves below show the epochs done so far.", "muted")
    reported = figures.get("reported") or {}
    interval = reported.get("interval") or figures.get("final_interval") or {}
    metrics = reported.get("metrics") or figures.get("final") or {}
    where = f"{reported.get('weights', 'final')} weights (epoch {reported.get('epoch', figures.get('epochs'))}), {reported.get('split', 'val')} split"
    headline = figures.get("headline")
    lines = [f"<p><strong>{esc(headline)} {esc(numbers.metric(metrics.get(headline)))}</strong> "
             f"[{esc(numbers.metric(interval.get('low')))}, {esc(numbers.metric(interval.get('high')))}] (95 % interval), "
             f"chance {esc(numbers.metric(reported.get('chance', figures.get('chance'))))}; from the {esc(where)}, "
             f"{esc(numbers.count(metrics.get('count')))} samples.</p>"]
    rows = [{"metric": k, "value": v} for k, v in metrics.items() if isinstance(v, (int, float)) and k != "count"]
    lines.append(table(["metric", "value"], rows, {"value": numbers.metric}, anchor="summary-table"))
    return "\n".join(lines) + "<h3>Timings</h3>" + sections.timings(run)


def grids(run: RunFiles) -> str:
    if not run.grids:
        return sections.grid(run)
    step = max(1, -(-len(run.grids) // MAX_GRIDS))
    chosen = sorted(set(range(len(run.grids) - 1, -1, -step)))
    return "\n".join(sections.grid(run, index) for index in chosen)


def cross_table(run: RunFiles) -> str:
    if not run.cross:
        return paragraph("No cross-dataset results: the spec has no evaluate: list.", "muted")
    columns = [c for c in run.cross[0] if c != "root"]
    metrics = tuple(c for c in columns if c not in ("test_set", "dataset", "split", "count", "videos", "error"))
    return table(columns, run.cross, numbers.formats(columns, metrics), anchor="cross-table") + sections.roc({run.name: run})


def task_pictures(run: RunFiles) -> str:
    """PNGs the task drew into the run folder (a confusion matrix, ...), other than the ROC picture the report redraws."""
    parts = []
    for path in sorted(run.folder.glob("*.png")):
        if path.is_file() and not path.is_symlink() and path.name != "cross_dataset_roc.png":
            uri = embedded(path)
            parts.append(image(uri, path.stem) if uri else paragraph(f"{path.name}: does not decode; left out.", "error"))
    return "\n".join(parts) or paragraph("None.", "muted")


def build(folder: Path) -> str:
    run = read_run(folder)
    headline: Any = run.headline or next((k.removeprefix("val_") for r in run.records for k in r if k.startswith("val_")), None)
    epochs = len(run.records)
    subtitle = f"run {run.name} in {folder}: " + ("finished" if run.summary else f"{epochs} epoch(s) so far, not finished")
    return document(f"Run {run.name}", subtitle, [
        ("summary", "What it reports", "\n".join(paragraph(p, "error") for p in run.problems) + summary(run)),
        ("curves", "Training curves", sections.curves({run.name: run}, headline)),
        ("grids", "Reconstruction grids over the epochs", grids(run)),
        ("cross-dataset", "Cross-dataset results", cross_table(run)),
        ("pictures", "The task's pictures", task_pictures(run)),
        ("spec", "Spec", sections.spec(run)),
        ("environment", "Environment", sections.environment([run])),
    ])
