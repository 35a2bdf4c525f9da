"""The page of a sweep folder, top to bottom: the three questions answered in words (``answers.md``)
with their pictures (from ``answers.json``), the leaderboard (``leaderboard.csv``) as a table that
sorts by any column, the training curves of every variant per task, the cross-dataset results,
each variant collapsed (spec, last reconstruction grid, timings, its curves), the environment."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from . import numbers, sections
from .drawing import data_uri, svg_uri
from .folder import SWEEP_FILE, RunFiles, inside, read_csv, read_json_or_none, read_run, read_text
from .page import details, document, esc, image, paragraph, table
from .study import differences, forest, gaps, parameters

#: what each question's picture shows, after the answer in words (none where it would show
#: nothing): its name (as ``sweep.plots`` passes the pictures it drew), how it is drawn, its caption
PICTURES = {
    "1.": ("forest", lambda data: forest(data["tasks"], data["variants"]), "Each backbone's value per task with its 95 % interval; dashed: chance; "
           "★: separably the best (only where its paired difference to every other backbone excludes 0); red: no result."),
    "2.": ("differences", lambda data: differences(data["tasks"]), "How far the top backbone of each task is ahead of each other one: paired 95 % intervals; "
           "an interval that excludes 0 is a separable difference."),
    "3.": ("gaps", lambda data: gaps(data["tasks"]), "Each backbone's distance to each task's best (points); hollow: the best or not separable from it."),
}


def markdown(text: str) -> str:
    """Markdown that the sweep wrote, as HTML; raw HTML in it is shown as text, never run."""
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": False}).enable("table").render(text)


def drawn(pictures: dict[str, Any] | None, data: dict[str, Any], name: str, draw) -> str | None:
    """The picture ``name`` as an SVG ``data:`` URI: the one the sweep drew from this very ``data``
    where it passed it, else drawn here; None where ``draw`` has nothing to show."""
    if pictures and name in pictures and pictures.get("data") == data:
        return data_uri(pictures[name], "image/svg+xml")
    figure = draw()
    return None if figure is None else svg_uri(figure)


def answers(folder: Path, data: dict[str, Any] | None, pictures: dict[str, Any] | None = None) -> str:
    text = read_text(inside(folder, "answers.md"))
    if text is None:
        return paragraph("No answers.md yet: it is written when the sweep collects (lssat sweep SPEC --collect).", "muted")
    parts = ['<div class="answers">']
    for chunk in text.split("\n## ")[1:]:
        heading, _, body = chunk.partition("\n")
        number = heading.split(" ", 1)[0]
        block = f"<h3>{esc(heading)}</h3>\n{markdown(body)}"
        if heading.startswith("How to read"):
            block = details(esc(heading), markdown(body))
        elif number in PICTURES and data is not None:
            name, draw, caption = PICTURES[number]
            if (uri := drawn(pictures, data, name, lambda: draw(data))) is not None:
                block += image(uri, f"question {number} {heading}", caption)
        parts.append(block)
    if data is None:
        parts.append(paragraph("No answers.json (a sweep collected by an older version): the pictures are drawn once it collects again.", "muted"))
    return "\n".join(parts) + "</div>"


def leaderboard(rows: list[dict[str, str]], data: dict[str, Any] | None, pictures: dict[str, Any] | None = None) -> str:
    if not rows:
        return paragraph("No leaderboard.csv yet.", "muted")
    columns = list(rows[0])
    board = table(columns, rows, numbers.formats(columns), row_class=lambda r: "failed" if r.get("state") == "failed" else "", anchor="leaderboard-table")
    note = paragraph("Click a column's name to sort by it. Failed variants are in red with their error; every figure comes from the "
                     "weights and split of its row's weights and split columns.", "muted")
    size = image(drawn(pictures, data, "parameters", lambda: parameters(data["variants"])), "every variant against its size",
                 "Every variant's value against its parameters; seeds of one cell side by side.") if data else ""
    return note + board + size


def _task_label(row: dict[str, str], data: dict[str, Any] | None) -> str:
    labels = {v["variant"]: v["task"] for v in (data or {}).get("variants", [])}
    return labels.get(row["variant"]) or f"{row.get('task') or 'task'} ({row.get('metric') or 'metric'})"


def curves_by_task(runs: dict[str, RunFiles], rows: list[dict[str, str]], data: dict[str, Any] | None, headlines: dict[str, str]) -> str:
    tasks: dict[str, dict[str, RunFiles]] = {}
    for row in rows:
        if row["variant"] in runs:
            tasks.setdefault(_task_label(row, data), {})[row["variant"]] = runs[row["variant"]]
    if not tasks:
        return paragraph("No variant has trained an epoch yet.", "muted")
    return "\n".join(f"<h3>{esc(task)}</h3>" + sections.curves(members, headlines.get(next(iter(members))), "") for task, members in tasks.items())


def cross_dataset(runs: dict[str, RunFiles], rows: list[dict[str, str]]) -> str:
    columns = [c for c in (rows[0] if rows else {}) if "@" in c]
    if not columns:
        return paragraph("No cross-dataset results: the spec has no evaluate: list.", "muted")
    errors = [f"{name}, {label}: {result.get('error')}" for name, run in runs.items()
              for label, result in ((run.summary or {}).get("cross") or {}).items() if isinstance(result, dict) and result.get("error")]
    shown = [{"variant": r["variant"], **{c: r.get(c) for c in columns}} for r in rows if r.get("state") == "done"]
    parts = [table(["variant", *columns], shown, numbers.formats(columns), anchor="cross-table")]
    parts += [paragraph(f"Not evaluated: {e}", "error") for e in errors]
    return "\n".join(parts) + sections.roc({n: r for n, r in runs.items() if r.cross})


def build(folder: Path, pictures: dict[str, Any] | None = None) -> str:
    """The page; ``pictures``: the sweep's plots as it just drew them (``sweep.plots.draw_plots``)."""
    manifest = read_json_or_none(folder / SWEEP_FILE) or {}
    variants = [v for v in manifest.get("variants", []) if isinstance(v, dict) and isinstance(v.get("name"), str)]
    data = read_json_or_none(inside(folder, "answers.json"))
    rows = read_csv(inside(folder, "leaderboard.csv"))
    errors = {r["variant"]: r.get("error") for r in rows}
    runs = {v["name"]: read_run(path, v["name"]) for v in variants if (path := inside(folder, v["name"])) is not None}
    headlines = {v["name"]: v.get("headline") for v in variants}
    done = sum(r.get("state") == "done" for r in rows)
    failed = [r["variant"] for r in rows if r.get("state") == "failed"]
    subtitle = f"sweep {manifest.get('name', folder.name)} in {folder}: {done} of {len(variants)} variants finished" + (f", {len(failed)} failed" if failed else "")
    blocks = [sections.run_block(run, headlines.get(name), errors.get(name)) for name, run in runs.items()]
    return document(f"Sweep {manifest.get('name', folder.name)}", subtitle, [
        ("answers", "The three questions", answers(folder, data, pictures)),
        ("leaderboard", "Leaderboard", leaderboard(rows, data, pictures)),
        ("curves", "Training curves", curves_by_task(runs, rows, data, headlines)),
        ("cross-dataset", "Cross-dataset results", cross_dataset(runs, rows)),
        ("variants", "Variants", paragraph("Each variant's spec, last reconstruction grid, timings and curves; open one to see it.", "muted") + "\n".join(blocks)),
        ("environment", "Environment", sections.environment(list(runs.values()))),
    ])
