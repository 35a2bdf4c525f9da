"""The parts a run page and a sweep page share: training curves, ROC curves from the kept
per-sample outputs, a run's timings, its reconstruction grids, its spec, and the environment."""

from __future__ import annotations

import datetime
import json
from typing import Any

from . import numbers
from .curves import curve_keys, points, roc_curves, sparklines, training_curves
from .drawing import data_uri, png_bytes, svg_uri
from .folder import RunFiles, inside, read_json_or_none, read_outputs
from .page import details, esc, image, paragraph, pre, table
from .pictures import THUMBNAIL_WIDTH, embedded


NO_EPOCH = "No epoch finished yet (no metrics.jsonl records)."


def curves(series: dict[str, RunFiles], headline: str | None, title: str = "") -> str:
    found = {name: run.records for name, run in series.items() if run.records}
    if not found:
        return paragraph(NO_EPOCH, "muted")
    figure = training_curves(found, headline, title)
    # many lines weigh more as SVG than as pixels: a PNG for more than 8 runs
    uri = data_uri(png_bytes(figure, dpi=100), "image/png") if len(found) > 8 else svg_uri(figure)
    return image(uri, f"training curves {title}".strip(), "Per epoch: the headline metric on validation and every training loss term.")


def sparkline(run: RunFiles, headline: str | None) -> str:
    """One run's headline and total loss per epoch as small lines (a sweep's 45 variants each have
    one), their first and last values in the caption."""
    if not run.records:
        return paragraph(NO_EPOCH, "muted")
    keys = curve_keys(run.records, headline)[:2] or ["train_loss"]
    uri = data_uri(png_bytes(sparklines(run.records, keys), dpi=100, crop=False), "image/png")
    ends = [f"{key} {found[0][1]:.4g} → {found[-1][1]:.4g}" for key in keys if (found := points(run.records, key))]
    epochs = len({r.get("epoch") for r in run.records})
    return image(uri, f"training curves of {run.name}", f"Per epoch ({epochs}), left to right: " + ("; ".join(ends) or "no value") + ".")


def _task(run: RunFiles):
    """The run's task, bound to its dataset's labels, to score its outputs; None where it cannot be built."""
    from ..plugins.manager import get_plugin_manager
    from ..train.rundir import read_dataset_info

    resolved = read_json_or_none(inside(run.folder, "resolved.json")) or {}
    component = (resolved.get("components") or {}).get("task") or {}
    try:
        task = get_plugin_manager().get("task", component["name"]).build(**(component.get("params") or {}))
        task.bind(read_dataset_info(run.folder))
        return task
    except Exception:  # a plugin gone or a damaged file: no curve for this run, the rest of the page stands
        return None


def roc_panels(runs: dict[str, RunFiles]) -> dict[str, list]:
    """Per test set of the runs' cross-dataset tables, each run's ROC curve (tasks with one score a sample)."""
    import torch

    from ..train.cross import roc_points

    panels: dict[str, list] = {}
    for name, run in runs.items():
        task = _task(run) if run.cross else None
        for row in run.cross if task is not None else ():
            outputs = read_outputs(run.cross_outputs(row.get("test_set", "")))
            if outputs is None or "logits" not in outputs or "target" not in outputs:
                continue
            scores = task.scores(torch.from_numpy(outputs["logits"])).float().numpy()
            if scores.ndim == 1 and len(set(outputs["target"].tolist())) == 2:
                panels.setdefault(row["test_set"], []).append((name, *roc_points(scores, outputs["target"])))
    return panels


def roc(runs: dict[str, RunFiles]) -> str:
    panels = roc_panels(runs)
    if not panels:
        return paragraph("No ROC curve: no test set with one score per sample and both classes.", "muted")
    return image(svg_uri(roc_curves(panels)), "ROC curves per test set", "Per test set: each run's ROC curve on the weights it reports, with the area under it.")


TIMINGS = [("epochs", "epochs", numbers.count), ("parameters", "parameters", lambda v: numbers.parameters(None if v is None else v / 1e6)),
           ("images_per_s", "images per second (training)", numbers.rate), ("step_time_s", "time a step", numbers.seconds),
           ("peak_mem_mb", "peak memory", numbers.memory), ("threads", "CPU threads a process", lambda v: ", ".join(map(str, v or [])))]


def timings(run: RunFiles) -> str:
    summary = run.summary or {}
    rows = [{"what": label, "value": shown(summary.get(key))} for key, label, shown in TIMINGS if summary.get(key) not in (None, [])]
    started = (run.environment or {}).get("started")
    rows += [{"what": "started", "value": started}] if started else []
    return table(["what", "value"], rows, sortable=False) if rows else paragraph("No timings: the run has not finished.", "muted")


def grid(run: RunFiles, which: int = -1, width: int = THUMBNAIL_WIDTH, quality: int = 70) -> str:
    if not run.grids:
        return paragraph("No reconstruction grid (the objective reconstructs nothing, or train.recon_grid is off).", "muted")
    path = run.grids[which]
    uri = embedded(path, width, quality)
    if uri is None:
        return paragraph(f"{path.name}: not a picture that decodes; left out.", "error")
    return image(uri, f"reconstruction grid {path.stem}", f"{path.stem.replace('_', ' ')}: rows input, masked input, each target and its reconstruction; "
                 "columns titled by the sample's class.", css="grid")


def spec(run: RunFiles) -> str:
    return pre(run.spec_text) if run.spec_text else paragraph("No spec.yaml.", "muted")


def _when(value: Any) -> str | None:
    if isinstance(value, (int, float)):
        return datetime.datetime.fromtimestamp(value, datetime.timezone.utc).isoformat(timespec="seconds")
    return value if isinstance(value, str) else None


def environment(runs: list[RunFiles]) -> str:
    """Versions, devices, the framework's commit and when it ran, as the runs recorded them;
    where runs differ, each different record is shown with the runs it holds for."""
    records: dict[str, list[str]] = {}
    for run in runs:
        env = {k: v for k, v in (run.environment or {}).items() if k not in ("started", "host")}
        env["plugins"] = {k: f"{v.get('version')} ({v.get('distribution')})" for k, v in (run.plugins or {}).items() if isinstance(v, dict)}
        records.setdefault(json.dumps(env, sort_keys=True, default=str), []).append(run.name)
    started = sorted(s for s in ((r.environment or {}).get("started") for r in runs) if isinstance(s, str))
    ended = sorted(e for e in (_when((r.job or {}).get("updated")) for r in runs) if e)
    when = [{"what": "first run started", "value": started[0]}] if started else []
    when += [{"what": "last run's state written", "value": ended[-1]}] if ended else []
    parts = [table(["what", "value"], when, sortable=False)] if when else []
    unrecorded = records.pop(json.dumps({"plugins": {}}), [])
    if unrecorded:
        parts.append(paragraph(f"No record of their environment (they never started): {', '.join(unrecorded)}.", "muted"))
    for text, names in records.items():
        env = json.loads(text)
        rows = _environment_rows(env)
        if "python" not in env:
            parts.append(paragraph(f"{len(names)} run(s) without environment.json (written by runs since it exists): their plugins only.", "muted"))
        heading = f"<h3>{esc(len(names))} run(s): {esc(', '.join(names[:8]))}{' …' if len(names) > 8 else ''}</h3>" if len(records) > 1 else ""
        parts.append(heading + table(["what", "value"], rows, sortable=False))
    return "\n".join(parts)


def _environment_rows(env: dict[str, Any]) -> list[dict[str, Any]]:
    rows = [{"what": "Python", "value": env.get("python")}, {"what": "platform", "value": env.get("platform")}]
    rows += [{"what": name, "value": version} for name, version in (env.get("packages") or {}).items()]
    rows += [{"what": f"plugin {name}", "value": version} for name, version in sorted((env.get("plugins") or {}).items())]
    rows += [{"what": key, "value": value} for key, value in (env.get("devices") or {}).items()]
    git = env.get("git")
    if isinstance(git, dict):
        rows.append({"what": "framework commit", "value": f"{git.get('commit')}" + (" (with local changes)" if git.get("modified") else "")})
    return [row for row in rows if row["value"] not in (None, "", {})]


#: a sweep's variants' grids are thumbnails this wide, so that the 45 of the study fit a page under 2 MB
SWEEP_THUMBNAIL = 360


def run_block(run: RunFiles, headline: str | None, error: str | None = None) -> str:
    """One run, collapsed: its error, spec, last reconstruction grid, timings and own curves."""
    state = (run.job or {}).get("state") or ("done" if run.summary else "not finished")
    parts = [paragraph(f"error: {error}", "error")] if error else []
    parts += [*(paragraph(p, "error") for p in run.problems), "<h3>Spec</h3>", spec(run), "<h3>Reconstruction grid, last epoch</h3>", grid(run, width=SWEEP_THUMBNAIL, quality=60),
              "<h3>Timings</h3>", timings(run), "<h3>Training curves</h3>", sparkline(run, headline)]
    label = f"{esc(run.name)} <span class=\"muted\">({esc(state)})</span>"
    return details(label, "\n".join(parts), anchor=f"variant-{run.name}")
