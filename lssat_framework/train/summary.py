"""The end of a run: the models saved, the figures a leaderboard row reports (:func:`reported`)
and ``summary.json``, written last, the mark of a finished run."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..model.lssat_model import count_parameters
from .checkpoints import PREDICTIONS_FILE, find_checkpoint, predictions_file, write_json_atomic
from .cross import evaluate_after_training
from .ema import EMA_MODEL_FILE, EMA_PREFIX
from .evaluation import Evaluation, bootstrap_interval, chance, evaluation_arrays, evaluation_from_arrays, headline_figures, read_predictions
from .rundir import METRICS_FILE, MODEL_FILE, SUMMARY_FILE, finite, read_metrics
from .tensor_tree import save_safetensors, write_npz_atomic

if TYPE_CHECKING:
    from .loop import Run


def save_models(run: Run) -> None:
    model = run.unwrapped
    save_safetensors(model.state_dict(), run.out_dir / MODEL_FILE)
    save_safetensors(model.backbone.export_state_dict(), run.out_dir / "backbone.safetensors")
    if run.ema is not None:  # the average under the model's own names: `lssat eval <run>/model_ema.safetensors`
        save_safetensors(run.ema.module.state_dict(), run.out_dir / EMA_MODEL_FILE)


def reported(run: Run, records: list[dict[str, Any]]) -> dict[str, Any]:
    """The figures a leaderboard row reports, all from one set of weights: the best checkpoint
    (by ``best_metric`` on validation; the final weights where no epoch was best), reported on
    the dataset's test split where it has one, as DeepfakeBench reports, else on validation;
    with the interval and chance of those weights' own outputs on that split."""
    task, seed, best = run.task, run.spec.seed, run.state["best"]
    folder = find_checkpoint(run.out_dir / "checkpoints" / "best")
    chosen = best is not None and folder is not None and (folder / PREDICTIONS_FILE).is_file()
    what, epoch = ("best", best["epoch"]) if chosen else ("final", records[-1]["epoch"])
    if run.has_test_split:
        evaluation, split = on_test(run, folder if chosen else None), "test"
        metrics = evaluation.metrics
    elif chosen:
        evaluation, split = evaluation_from_arrays(read_predictions(folder / PREDICTIONS_FILE)), "val"
        record = next(r for r in records if r["epoch"] == epoch)
        prefix = "val_ema_" if best["metric"].startswith(EMA_PREFIX) else "val_"
        metrics = {k[len(prefix):]: v for k, v in record.items() if k.startswith(prefix) and not k[len(prefix):].startswith(EMA_PREFIX)}
        metrics.setdefault("count", len(evaluation.target))
    else:
        evaluation, split, metrics = run.last_evaluation, "val", run.last_evaluation.metrics
    return {"weights": what, "epoch": epoch, "split": split, "metrics": metrics, **headline_figures(task, evaluation, seed)}


def on_test(run: Run, best_folder: Path | None) -> Evaluation:
    """The reported weights on the test split, on this process alone; with the best
    checkpoint, its outputs kept beside it (``predictions_test.npz``)."""
    from .trained import checkpoint_evaluation

    evaluation, _ = checkpoint_evaluation(run.resolved, best_folder or run.out_dir / MODEL_FILE, "test", alone=run.accelerator)
    if best_folder is not None:
        write_npz_atomic(best_folder / predictions_file("test"), evaluation_arrays(evaluation))
    return evaluation


def write_summary(run: Run) -> dict[str, Any]:
    model, task, spec = run.unwrapped, run.task, run.spec
    records = read_metrics(run.out_dir / METRICS_FILE)
    final = records[-1]
    components = run.resolved.components
    summary = {
        "name": spec.name,
        "task": components["task"].component.name,
        "backbone": components["backbone"].component.name,
        "ssl": components["ssl"].component.name,
        "classify": spec.classify,
        "seed": spec.seed,
        "headline": task.headline,
        "final": {k[len("val_") :]: v for k, v in final.items() if k.startswith("val_")},
        "final_interval": bootstrap_interval(task, run.last_evaluation, task.headline, seed=spec.seed),
        "reported": reported(run, records),
        "chance": chance(task, run.last_evaluation, task.headline, seed=spec.seed),
        "higher_is_better": task.higher_is_better(task.headline),
        "best": run.state["best"],
        "epochs": final["epoch"],
        "parameters": count_parameters(model.backbone) + count_parameters(model.head),
        "images_per_s": sum(r["images_per_s"] or 0 for r in records) / len(records),
        "step_time_s": sum(r["step_time_s"] for r in records) / len(records),
        "peak_mem_mb": max(r["peak_mem_mb"] for r in records),
        "threads": sorted({r["threads"] for r in records if "threads" in r}),  # per process; two counts: resumed with another
        "skipped_images": len(run.state["skipped"]),
        "skipped_rows": len(getattr(run.info, "skipped_rows", ())),
        "input_normalisation": model.input_normalisation(),  # what each modality was normalised with
    }
    if spec.evaluate:  # the best weights (else the final) on each test set, before summary.json marks the run finished
        summary["cross"] = evaluate_after_training(run.resolved, run.out_dir, run.accelerator, task.headline)
    write_json_atomic(run.out_dir / SUMMARY_FILE, finite(summary))
    return summary
