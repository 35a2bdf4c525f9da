"""Weight and time of the report of the study's 45-variant sweep (3 backbones × 5 configurations
× 3 tasks, 50 epochs each, a 224-pixel reconstruction grid of 8 faces per variant), its folder
written here as the runs would leave it (no training); the target is under 2 MB. Side by side in
one process, the page's figures saved as ``images.save_figure`` saves them (one drawing pass) and
with matplotlib's own ``bbox_inches="tight"`` (what the page did before: one pass more), the best
of ``--repeat`` builds each.

    python benchmarks/report_size.py [--variants 45] [--epochs 50] [--out /tmp/study]
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

import numpy as np

BACKBONES = ["vit_base_patch16_224", "vit_large_patch16_224", "vit_huge_patch14_224"]
CONFIGS = ["MRGB-RLDP-CRGB", "MLDP-RRGB-CRGB", "MLDP-RLDP-CRGB", "MRGB-RRGBLDP-CRGB", "MLDP-RLDP-CLDP"]
TASKS = [("deepfake", "auc"), ("attributes", "mean_balanced_acc"), ("emotion", "balanced_acc")]


def grid(path: Path, rng: np.random.Generator) -> None:
    """A 224-pixel grid of 8 photographs' crops (input, masked, target, reconstruction), titled."""
    from skimage import data

    from lssat_framework.train.pictures import titled

    photo = data.astronaut()
    tiles = [photo[y: y + 224, x: x + 224] for y, x in rng.integers(0, 288, size=(8, 2))]
    rows = [np.concatenate([np.pad(t, ((1, 0), (1, 0), (0, 0))) for t in tiles], axis=1) for _ in range(4)]
    pixels = np.pad(np.concatenate(rows, axis=0), ((0, 1), (0, 1), (0, 0)))
    path.parent.mkdir(parents=True, exist_ok=True)
    titled(pixels, ["input", "masked input (rgb)", "target (ldp)", "reconstruction (ldp)"], ["real", "fake"] * 4, 224).save(path)


def variant(folder: Path, name: str, task: str, metric: str, epochs: int, rng: np.random.Generator) -> dict:
    folder.mkdir(parents=True, exist_ok=True)
    value = float(rng.uniform(0.6, 0.9))
    records = [{"epoch": e, "step": 500 * e, "lr": 1e-3 * math.cos(e / epochs), "train_loss": 1.5 / e ** 0.3, "train_loss_task": 0.7 / e ** 0.2,
                "train_loss_rec_ldp": 1.6 / e ** 0.3, f"val_{metric}": value * (1 - 0.5 / e), "images_per_s": 400.0, "step_time_s": 0.16,
                "peak_mem_mb": 30000.0} for e in range(1, epochs + 1)]
    (folder / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    (folder / "spec.yaml").write_text((Path(__file__).resolve().parents[1] / "lssat_framework" / "specs" / "study.yaml").read_text()[:2500])
    summary = {"name": name, "task": task, "headline": metric, "epochs": epochs, "parameters": 86e6, "images_per_s": 400.0, "step_time_s": 0.16,
               "peak_mem_mb": 30000.0, "reported": {"weights": "best", "epoch": epochs, "split": "test", "metrics": {metric: value, "count": 5000},
                                                   "interval": {"low": value - 0.02, "high": value + 0.02}, "chance": 0.5}}
    (folder / "summary.json").write_text(json.dumps(summary))
    (folder / "environment.json").write_text(json.dumps({"started": "2026-01-01T00:00:00+00:00", "python": "3.11.7", "packages": {"torch": "2.6.0"}}))
    grid(folder / "recon" / f"epoch_{epochs:03d}.png", rng)
    return {"variant": name, "state": "done", "task": task, "metric": metric, "value": value, "low": value - 0.02, "high": value + 0.02,
            "chance": 0.5, "parameters_m": 86.0, "images_per_s": 400.0, "peak_mem_mb": 30000.0, "error": ""}


def study(out: Path, count: int, epochs: int) -> None:
    rng = np.random.default_rng(0)
    combos = [(b, c, t) for b in BACKBONES for c in CONFIGS for t in TASKS][:count]
    rows, variants = [], []
    for backbone, config, (task, metric) in combos:
        name = f"backbone.name={backbone}__configuration={config}__task={task}"
        rows.append(variant(out / name, name, task, metric, epochs, rng))
        variants.append({"name": name, "headline": metric, "choice": {"backbone.name": backbone, "configuration": config, "task": task}})
    (out / "sweep.json").write_text(json.dumps({"name": "study", "axes": {}, "variants": variants}))
    columns = list(rows[0])
    (out / "leaderboard.csv").write_text(",".join(columns) + "\n" + "".join(",".join(str(r[c]) for c in columns) + "\n" for r in rows))
    tasks = [{"task": f"{t} ({m})", "metric": m, "higher_is_better": True, "paired": True, "best": None, "differences": [], "incomplete": [], "absent": [],
              "notes": [], "cells": [{"backbone": b, "value": 0.8, "low": 0.78, "high": 0.82, "chance": 0.5, "seeds": 1, "std": None, "warning": "",
                                      "standing": "tied", "weights": "best"} for b in BACKBONES]} for t, m in TASKS]
    answer_rows = [{**r, "task": f"{r['task']} ({r['metric']})", "backbone": r["variant"].split("__")[0], "setting": "", "seed": None} for r in rows]
    (out / "answers.json").write_text(json.dumps({"tasks": tasks, "variants": answer_rows}))
    (out / "answers.md").write_text("# What the sweep answers\n\n## 1. How much\n\n- text\n\n## 2. Which\n\n- text\n\n## 3. One\n\n- text\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--variants", type=int, default=45)
    parser.add_argument("--epochs", type=int, default=50)
    parser.add_argument("--out", type=Path, default=Path("/tmp/lssat-report-study"))
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    from lssat_framework.files.safe import remove_tree
    from lssat_framework.report import drawing, write_report

    if args.out.exists():
        remove_tree(args.out, args.out.parent)
    study(args.out, args.variants, args.epochs)
    write_report(args.out)  # fonts and imports loaded once, outside the timings
    shipped = drawing.save_figure
    best = {"one pass (save_figure)": float("inf"), "matplotlib's tight (before)": float("inf")}
    for _ in range(args.repeat):
        for label, saver in (("one pass (save_figure)", shipped), ("matplotlib's tight (before)", matplotlib_tight)):
            drawing.save_figure = saver
            start = time.process_time()
            page = write_report(args.out)
            best[label] = min(best[label], time.process_time() - start)
    drawing.save_figure = shipped
    print(f"{args.variants} variants, {args.epochs} epochs: {page} is {page.stat().st_size / 1e6:.2f} MB")
    for label, seconds in best.items():
        print(f"  written in {seconds:.2f} s of CPU, figures saved {label}")


def matplotlib_tight(fig, target, *, crop: bool = False, **options) -> None:
    """How the page saved its figures before: matplotlib's own ``bbox_inches="tight"``."""
    from lssat_framework.images import pyplot

    fig.savefig(target, bbox_inches="tight" if crop else None, **options)
    pyplot().close(fig)


if __name__ == "__main__":
    main()
