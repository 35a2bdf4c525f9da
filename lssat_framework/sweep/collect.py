"""Status and results of a sweep folder, rebuilt from each variant's own files.

``leaderboard.csv`` has one row per variant of the grid (finished or not, with its state and
error): the sweep's axes as ``sweep.<axis>`` columns, then the result fields, so that an axis
named like a result field (``task``) never collides with it; where the spec has ``evaluate:``,
a ``<metric>@<test set>`` column per test set and metric in the variants' ``summary.json``
(``auc@celebdf``, ``video_auc@celebdf``). ``leaderboard.md`` lists the finished variants with
their intervals and those columns, the seeds' mean ± std where there is a ``seed`` axis, the
test sets that could not be evaluated, and the variants without a result. Every shared file is written whole and renamed into place.

Every figure (value, interval, chance and the ``@<test set>`` columns) comes from the weights the
run reports (:mod:`.reported`: its best checkpoint), named in the ``weights`` column as
``best (epoch 3), validation``. The answers are computed here only (:mod:`.compare`, which reads
the runs' per-sample outputs and imports torch); status and listing stay light.
"""

from __future__ import annotations

import csv
import io
import json
import statistics
from pathlib import Path
from typing import Any

from . import reported
from .state import VariantStatus, read_json, read_manifest, variant_status, write_atomic

RESULT_COLUMNS = ["state", "task", "metric", "value", "low", "high", "chance", "weights", "epoch", "split", "samples", "videos",
                  "best_value", "parameters_m", "images_per_s", "peak_mem_mb", "error"]


def statuses(out_dir: Path, manifest: dict[str, Any]) -> list[VariantStatus]:
    """Every variant's status; Slurm's word on jobs that were submitted there."""
    from .launchers import slurm_states

    slurm_ids = []
    for variant in manifest["variants"]:
        submission = read_json(out_dir / variant["name"] / "submission.json") or {}
        if submission.get("launcher") == "slurm" and submission.get("job_id"):
            slurm_ids.append(submission["job_id"])
    scheduler = slurm_states(slurm_ids)
    return [variant_status(v["index"], v["name"], out_dir / v["name"], v["raw"], v.get("headline"), scheduler) for v in manifest["variants"]]


def _result(summary: dict[str, Any]) -> dict[str, Any]:
    """A finished run's leaderboard fields: its headline's figures from the weights it reports."""
    figures = reported.figures(summary)
    rounded = lambda value, digits: None if value is None else round(value, digits)  # noqa: E731
    return {
        "task": summary.get("task"),
        "metric": summary["headline"],
        **figures,
        "best_value": (summary.get("best") or {}).get("value"),
        "parameters_m": None if summary.get("parameters") is None else round(summary["parameters"] / 1e6, 3),
        "images_per_s": rounded(summary.get("images_per_s"), 1),
        "peak_mem_mb": rounded(summary.get("peak_mem_mb"), 1),
        **cross_results(summary),
    }


def cross_results(summary: dict[str, Any]) -> dict[str, Any]:
    """A run's cross-dataset numbers (``summary.json``'s ``cross``) as ``<metric>@<test set>``
    fields; a test set that was not evaluated as ``error@<test set>``."""
    fields: dict[str, Any] = {}
    for label, result in (summary.get("cross") or {}).items():
        for metric, value in result.items() if isinstance(result, dict) else ():
            if metric not in ("dataset", "count"):
                fields[f"{metric}@{label}"] = value
    return fields


def cross_columns(found: list[dict[str, Any]]) -> list[str]:
    """The ``<metric>@<test set>`` columns of the variants, in the order they first appear; errors out."""
    columns: list[str] = []
    for row in found:
        columns += [key for key in row["result"] if "@" in key and not key.startswith("error@") and key not in columns]
    return columns


def _section_name(variant: dict[str, Any], section: str) -> str | None:
    """The component a variant's spec names in ``section`` (its task, its backbone)."""
    value = (variant.get("raw") or {}).get(section)
    return value.get("name") if isinstance(value, dict) else None


def rows(out_dir: Path, manifest: dict[str, Any], states: list[VariantStatus]) -> list[dict[str, Any]]:
    """One row per variant: ``variant``, ``axes`` (axis -> label), ``result`` (result fields)."""
    found = []
    for variant, status in zip(manifest["variants"], states):
        result: dict[str, Any] = {"state": status.state, "error": status.error}
        if status.state == "done":
            result.update(_result(read_json(out_dir / variant["name"] / "summary.json") or {}))
        found.append({"variant": variant["name"], "axes": variant["choice"], "result": result, "higher": variant.get("higher_is_better", True),
                      "headline": variant.get("headline"), "task": _section_name(variant, "task"), "backbone": _section_name(variant, "backbone")})
    return found


def _fmt(value: Any) -> str:
    return f"{value:.4f}" if isinstance(value, float) else ("" if value is None else str(value))


def leaderboard_csv(axes: list[str], found: list[dict[str, Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    columns = [*RESULT_COLUMNS[:-1], *cross_columns(found), RESULT_COLUMNS[-1]]  # the error last
    writer.writerow(["variant", *[f"sweep.{a}" for a in axes], *columns])
    for row in found:
        writer.writerow([row["variant"], *[row["axes"].get(a) for a in axes], *[row["result"].get(c) for c in columns]])
    return buffer.getvalue()


def _sample_warning(result: dict[str, Any]) -> str:
    from .records import MIN_EVALUATED

    count, unit = (result.get("videos"), "videos") if result.get("videos") is not None else (result.get("samples"), "samples")
    return f" ⚠ {count} {unit}" if count is not None and count < MIN_EVALUATED else ""


def _finished_rows(axes: list[str], done: list[dict[str, Any]]) -> list[str]:
    cross = cross_columns(done)
    header = ["variant", *[f"sweep.{a}" for a in axes], "metric", "value [95 % interval]", "chance", "weights", *cross,
              "parameters_m", "images_per_s", "peak_mem_mb"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in done:
        r = row["result"]
        interval = f" [{r['low']:.4f}, {r['high']:.4f}]" if r["low"] is not None and r["high"] is not None else " [no interval]"
        cells = [row["variant"], *[row["axes"].get(a, "") for a in axes], r["metric"], _fmt(r["value"]) + interval + _sample_warning(r),
                 _fmt(r["chance"]), reported.label(r.get("weights"), r.get("epoch"), r.get("split")),
                 *[_fmt(r.get(c)) for c in cross], _fmt(r["parameters_m"]), _fmt(r["images_per_s"]), _fmt(r["peak_mem_mb"])]
        lines.append("| " + " | ".join(cells) + " |")
    from .records import MIN_EVALUATED

    return lines + ["", "Every figure of a row (value, 95 % interval, chance and the `<metric>@<test set>` columns) comes from the "
                    f"weights and split of its `weights` column. ⚠: fewer than {MIN_EVALUATED} samples (videos) evaluated."]


def _seed_rows(axes: list[str], kinds: dict[str, str], done: list[dict[str, Any]]) -> list[str]:
    seed_axes = [a for a in axes if kinds.get(a) == "seed"]
    if not seed_axes or not done:
        return []
    lines = ["", "## Averaged over seeds", "", "| " + " | ".join([*[f"sweep.{a}" for a in axes if a not in seed_axes], "metric", "mean ± std", "seeds"]) + " |"]
    lines.append("|" + "---|" * (len(axes) - len(seed_axes) + 3))
    groups: dict[tuple, list[float]] = {}
    for row in done:
        key = (*[row["axes"].get(a, "") for a in axes if a not in seed_axes], row["result"]["metric"])
        if row["result"]["value"] is not None:
            groups.setdefault(key, []).append(row["result"]["value"])
    for key, values in groups.items():
        spread = f"{statistics.stdev(values):.4f}" if len(values) > 1 else "n/a"
        lines.append("| " + " | ".join([*key, f"{statistics.fmean(values):.4f} ± {spread}", str(len(values))]) + " |")
    return lines


def leaderboard_md(axes: list[str], kinds: dict[str, str], found: list[dict[str, Any]]) -> str:
    done = [r for r in found if r["result"]["state"] == "done"]
    done.sort(key=lambda r: (str(r["result"]["task"]), -(r["result"]["value"] or 0) if r["higher"] else (r["result"]["value"] or 0)))
    lines = _finished_rows(axes, done) + _seed_rows(axes, kinds, done)
    not_evaluated = [f"- {row['variant']}, {key.removeprefix('error@')}: {' '.join(str(value).split())}"
                     for row in done for key, value in row["result"].items() if key.startswith("error@")]
    if not_evaluated:
        lines += ["", f"## Test sets not evaluated ({len(not_evaluated)})", "", *not_evaluated]
    missing = [r for r in found if r["result"]["state"] != "done"]
    if missing:
        lines += ["", f"## Not finished ({len(missing)} of {len(found)})", ""]
        lines += [f"- {r['variant']}: {r['result']['state']}" + (f" ({r['result']['error']})" if r["result"]["error"] else "") for r in missing]
    return "\n".join(lines) + "\n"


def runs_for_answers(out_dir: Path, kinds: dict[str, str], found: list[dict[str, Any]]) -> list:
    """Every variant as a :class:`~.records.Run` (finished or not, so that the answers can name
    what is missing), grouped by the axes' kinds; the task label comes from the task axes (the
    task's name only where no axis varies the task), with the headline metric; the backbone
    label from the backbone axes (the spec's backbone where no axis varies it)."""
    from .records import Run

    pick = lambda row, kind: " ".join(row["axes"][a] for a in kinds if kinds[a] == kind)  # noqa: E731
    runs = []
    for row in found:
        r = row["result"]
        metric = r.get("metric") or row["headline"]
        task = f"{pick(row, 'task') or r.get('task') or row['task']} ({metric})"
        figures = {k: r.get(k) for k in ("value", "low", "high", "chance", "parameters_m", "weights", "epoch", "split", "samples", "videos")}
        state = "finished without a value" if r["state"] == "done" and r.get("value") is None else r["state"]
        backbone = pick(row, "backbone") or row["backbone"] or "backbone"
        runs.append(Run(row["variant"], task, backbone, pick(row, "setting"), pick(row, "seed") or None, state, metric,
                        higher_is_better=row["higher"], run_dir=out_dir / row["variant"], error=r["error"], **figures))
    return runs


def collect(out_dir: Path, quiet: bool = False, manifest: dict[str, Any] | None = None) -> list[VariantStatus]:
    """Rebuild ``leaderboard.csv/.md``, the plots and ``answers.md`` of ``out_dir`` from each
    variant's files; missing and failed variants are listed. Rebuilt again when a variant
    finished meanwhile, so that the last writer includes every result it could see.
    ``manifest``: the grid (default: the folder's ``sweep.json``)."""
    from ..report import refresh_report
    from ..train.rundir import finite
    from .answers import answers
    from .answers_data import ANSWERS_DATA, answers_data
    from .axes import axis_kinds
    from .compare import compare
    from .plots import draw_plots

    out_dir = Path(out_dir)
    manifest = manifest or read_manifest(out_dir)
    kinds = axis_kinds(manifest)
    axes = list(kinds)
    for _ in range(3):
        states = statuses(out_dir, manifest)
        found = rows(out_dir, manifest, states)
        write_atomic(out_dir / "leaderboard.csv", leaderboard_csv(axes, found))
        write_atomic(out_dir / "leaderboard.md", leaderboard_md(axes, kinds, found))
        runs = runs_for_answers(out_dir, kinds, found)
        comparisons = compare(runs)
        missing = [f"{r['variant']}: {r['result']['state']}" + (f" ({r['result']['error']})" if r["result"]["error"] else "") for r in found if r["result"]["state"] != "done"]
        data = json.loads(json.dumps(finite(answers_data(comparisons, runs))))  # as the page reads it back
        pictures = draw_plots(data, out_dir)
        write_atomic(out_dir / "answers.md", answers(comparisons, missing))
        write_atomic(out_dir / ANSWERS_DATA, json.dumps(data, indent=1))  # what the report draws
        if [s.state for s in statuses(out_dir, manifest)] == [s.state for s in states]:
            break
    refresh_report(out_dir, pictures)  # report.html; a page that cannot be written is a warning
    if not quiet:
        done = sum(s.state == "done" for s in states)
        print(f"{out_dir}: {done} of {len(states)} variants finished; leaderboard.md, answers.md, report.html written")
    return states
