"""One training run through accelerate: resumable, writing everything it measures (see
:mod:`.rundir` for the files).

A :class:`Run` is set up once (data, model, optimiser, schedule, loaders, checkpoint), then trains
epoch by epoch: each epoch ends with an evaluation, a line in ``metrics.jsonl`` and a checkpoint.
"""

from __future__ import annotations

import contextlib
import dataclasses
import sys
import time
from pathlib import Path
from typing import Any

import torch
import yaml

from ..errors import DataError, LssatError, TrainingError
from ..files.safe import refuse_symlinks, write_text_atomic
from ..model.compat import check_best_metric
from ..model.lssat_model import build
from ..spec.changes import RESOLVED_FILE, resolved_view
from ..spec.resolved import ResolvedSpec
from .accelerator import apply_threads, compile_model, compiler_errors, make_accelerator, make_loaders, peak_memory_mb, set_grad_checkpointing
from .augment import augment
from .checkpoints import Resumable, find_checkpoint, load_checkpoint, read_state, save_checkpoint, tidy_checkpoint, write_json_atomic
from .environment import ENVIRONMENT_FILE, environment
from .ema import EMA_PREFIX, ema_metrics, make_ema, update_ema
from .evaluation import Evaluation, evaluate, evaluation_arrays, skipped_paths
from .optim import describe_parameters, make_optimizer, make_schedule, peak_lr, plan_epoch, top_lr
from .pictures import grid_samples, save_reconstruction_grid
from .resume import starting_checkpoint
from .rundir import DATASET_FILE, METRICS_FILE, SPEC_FILE, SUMMARY_FILE, append_metrics, dataset_info_json, read_summary, truncate_metrics
from .summary import save_models, write_summary
from .trackers import Trackers
from .writer import writing


def train(resolved: ResolvedSpec, out_dir: Path, resume: bool = False) -> dict[str, Any]:
    """Train ``resolved`` into ``out_dir``; with ``resume``, continue from its last checkpoint.
    Only one process at a time writes a run directory (:mod:`lssat_framework.files.lock`)."""
    out_dir = Path(out_dir)
    refuse_symlinks(out_dir)  # a planted link would send the run's writes elsewhere
    if resume and (out_dir / SUMMARY_FILE).is_file():
        print(f"{out_dir} is finished (it holds {SUMMARY_FILE}); nothing to resume", file=sys.stderr)
        return read_summary(out_dir)
    starting_checkpoint(out_dir, resume, resolved)  # refuse at once, before the model is built
    run = Run(resolved, out_dir)
    with writing(run.accelerator, out_dir):
        run.start(starting_checkpoint(out_dir, resume, resolved))  # again: another writer may have just ended
        for epoch in range(run.state["epoch"], resolved.spec.train.epochs):
            run.train_epoch(epoch)
            run.end_epoch(epoch)
        return run.finish()


def open_splits(source, data_name: str):
    splits = []
    for name in ("train", "val"):
        split = source.split(name)
        if len(split) == 0:
            raise DataError(f"data: the '{name}' split of dataset '{data_name}' is empty; nothing to {'train on' if name == 'train' else 'evaluate'}. Check data.params (root, lists, split names)")
        splits.append(split)
    return splits


class Run:
    """The set-up of one run and its counters (``state``, saved with every checkpoint)."""

    def __init__(self, resolved: ResolvedSpec, out_dir: Path):
        """Build everything a run needs; write nothing (the writer lock is not held yet)."""
        from accelerate.utils import set_seed

        self.resolved, self.spec, self.tspec, self.out_dir = resolved, resolved.spec, resolved.spec.train, out_dir
        self.last_dir = out_dir / "checkpoints" / "last"
        set_seed(self.spec.seed)
        apply_threads(self.tspec)  # before the model is built: its initialisation runs on these threads
        built = build(resolved)
        model, self.task, source = built.model, built.task, built.source
        self.info = source.info
        check_best_metric(resolved, self.task, self.info)  # before anything trains
        self.best_metric = self.tspec.best_metric or self.task.headline
        backbone_name = resolved.components["backbone"].component.name
        if self.tspec.grad_checkpointing:
            set_grad_checkpointing(model, backbone_name)
        self.accelerator = accelerator = make_accelerator(self.tspec, find_unused=not model.objective.modalities, log_dir=out_dir / "tensorboard")
        set_seed(self.spec.seed)  # the same stream on every process and on resume
        self.train_set, self.val_set = open_splits(source, resolved.components["data"].component.name)
        self.has_test_split = "test" in source.splits
        train_loader, self.sampler, val_loader = make_loaders(self.train_set, self.val_set, self.tspec, self.spec.seed, accelerator.device, accelerator.num_processes)
        lr = peak_lr(self.tspec, accelerator.num_processes)
        optimizer = make_optimizer(model, self.tspec, lr, backbone_name)
        self.model, self.optimizer, self.train_loader, self.val_loader = accelerator.prepare(model, optimizer, train_loader, val_loader)
        self.plan = plan_epoch(len(self.train_loader), accelerator.num_processes, self.tspec)
        self.scheduler = make_schedule(self.optimizer, self.tspec, self.plan, lr)
        self.unwrapped = accelerator.unwrap_model(self.model)
        self.ema = make_ema(self.unwrapped, self.tspec)  # placed on the device, not yet compiled
        # what checkpoints hold, saved and read without pickle (accelerate's save_state pickles)
        self.resumable = Resumable(self.unwrapped, self.optimizer, self.scheduler, self.ema, accelerator.scaler)
        # checkpoints/best holds the weights best_metric judged: the average's for an ema_ metric
        judged = self.ema.module if self.ema is not None and self.best_metric.startswith(EMA_PREFIX) else self.unwrapped
        self.best_parts = dataclasses.replace(self.resumable, model=judged)
        if self.tspec.compile:
            for module in (self.unwrapped, *([self.ema.module] if self.ema is not None else [])):
                compile_model(module, self.tspec)
        self.main = accelerator.is_main_process
        self.state = {"processes": accelerator.num_processes, "epoch": 0, "batch": 0, "step": 0, "sums": {}, "seen": 0, "train_time": 0.0, "best": None, "skipped": []}
        self.last_evaluation: Evaluation | None = None
        drawn = self.tspec.recon_grid and self.main and self.unwrapped.objective.modalities  # the reconstruction grids' samples:
        self.grid = grid_samples(self.val_set, self.task.label, self.info.labels[self.task.label].names, accelerator.device) if drawn else None

    def start(self, checkpoint: Path | None) -> None:
        """Restore ``checkpoint`` (if any) and write the run's own files (the lock is held)."""
        if checkpoint is not None:
            saved = read_state(checkpoint)
            processes = saved.get("processes", self.accelerator.num_processes)
            if processes != self.accelerator.num_processes:
                raise LssatError(
                    f"--resume: {self.out_dir} was trained by {processes} process(es), and this launch has {self.accelerator.num_processes}: "
                    "the effective batch, the lr scaled from base_lr and the updates per epoch would change midway. "
                    f"Resume with {processes} process(es) (e.g. torchrun --nproc_per_node {processes}), or start a new run"
                )
            load_checkpoint(checkpoint, self.resumable, self.accelerator.process_index)
            self.state = {**self.state, **saved}
            best = find_checkpoint(self.out_dir / "checkpoints" / "best")
            if best is not None:  # the best weights on disk are what the summary will name
                self.state["best"] = read_state(best).get("best")
            self.accelerator.print(f"resuming {self.out_dir} at epoch {self.state['epoch'] + 1}, batch {self.state['batch']}")
        if self.main:
            self._write_run_files()
        self.trackers = Trackers(self.accelerator, self.resolved, self.out_dir)  # the folder is this process's now

    def _write_run_files(self) -> None:
        from ..plugins.manager import get_plugin_manager

        self.out_dir.mkdir(parents=True, exist_ok=True)
        write_text_atomic(self.out_dir / SPEC_FILE, yaml.safe_dump(self.resolved.raw, sort_keys=False))
        write_json_atomic(self.out_dir / RESOLVED_FILE, resolved_view(self.resolved))
        write_json_atomic(self.out_dir / DATASET_FILE, dataset_info_json(self.info))
        write_json_atomic(self.out_dir / "optimizer.json", {"optimizer": self.tspec.optimizer, "parameters": describe_parameters(self.unwrapped, self.optimizer)})
        plugins = {i.qualifier: {"distribution": i.distribution, "version": i.version, "status": i.status} for i in get_plugin_manager().report()}
        write_json_atomic(self.out_dir / "plugins.json", plugins)
        write_json_atomic(self.out_dir / ENVIRONMENT_FILE, environment(self.accelerator))
        truncate_metrics(self.out_dir / METRICS_FILE, self.state["epoch"])

    def _note_skipped(self, paths: set[str]) -> None:
        """Count unreadable files that the datasets skipped; warn once per file."""
        new = sorted(paths - set(self.state["skipped"]))
        for path in new:
            if self.main:
                print(f"lssat: warning: unreadable file skipped (on_corrupt: skip): {path}", file=sys.stderr)
        self.state["skipped"] = sorted(set(self.state["skipped"]) | paths)

    # ------------------------------------------------------------------ one epoch
    def train_epoch(self, epoch: int) -> None:
        from tqdm.auto import tqdm

        accelerator, state, plan = self.accelerator, self.state, self.plan
        self.sampler.set_epoch(epoch)
        self.train_loader.set_epoch(epoch)
        start = state["batch"] if epoch == state["epoch"] else 0  # sums were reset at the last epoch end
        loader = accelerator.skip_first_batches(self.train_loader, start) if start else self.train_loader
        bar = tqdm(total=plan.batches, initial=start, desc=f"epoch {epoch + 1}/{self.tspec.epochs}", disable=not self.main,
                   leave=False, file=sys.stderr, mininterval=0.1 if sys.stderr.isatty() else 10)
        skipped: set[str] = set()
        batch_index, tick = start, time.perf_counter()
        for batch in loader:
            if batch_index >= plan.batches:
                break
            skipped |= skipped_paths(batch)
            terms, count = self._train_batch(batch, epoch, batch_index)
            for key, value in terms.items():
                state["sums"][key] = state["sums"].get(key, 0.0) + value * count
            state["seen"] += count
            batch_index += 1
            now = time.perf_counter()
            state["train_time"] += now - tick
            tick = now
            bar.update(1)
            bar.set_postfix({k: f"{v / state['seen']:.4f}" for k, v in state["sums"].items() if k in ("loss", "loss_task")}, refresh=False)
            every = self.tspec.checkpoint_every
            if every and plan.updates_after(batch_index - 1) and state["step"] % every == 0 and batch_index < plan.batches:
                save_checkpoint(accelerator, self.last_dir, self.resumable, {**state, "epoch": epoch, "batch": batch_index})
                tick = time.perf_counter()
        bar.close()
        self.batches_this_epoch = batch_index
        if accelerator.num_processes > 1:
            from accelerate.utils import gather_object

            skipped = set().union(*gather_object([skipped]))
        self._note_skipped(skipped)

    def _train_batch(self, batch, epoch: int, batch_index: int) -> tuple[dict[str, float], int]:
        accelerator, model, task, spec = self.accelerator, self.model, self.task, self.spec
        update = self.plan.updates_after(batch_index)
        with accelerator.no_sync(model) if not update else contextlib.nullcontext(), compiler_errors():  # no all-reduce inside a window
            images = augment(batch["image"], self.tspec)
            logits, ssl_out = model(images)
            task_loss = task.loss(logits.float(), batch["labels"][task.label])
            ssl_loss = sum(ssl_out.losses.values()) if ssl_out.losses else torch.zeros((), device=images.device)
            loss = spec.loss.task * task_loss + spec.loss.ssl * ssl_loss
            if not torch.isfinite(loss):
                terms = {"task": task_loss.item(), **{k: v.item() for k, v in ssl_out.losses.items()}}
                raise TrainingError(
                    f"non-finite loss at epoch {epoch + 1}, batch {batch_index} ({terms}); lower train.lr or use precision 'no'. "
                    f"The last good checkpoint is in {self.last_dir}"
                )
            accelerator.backward(loss / self.plan.window_size(batch_index))  # a window's gradient is its mean
        terms = {"loss": loss.item(), "loss_task": task_loss.item(), **{f"loss_{k}": v.item() for k, v in ssl_out.losses.items()}}
        if update:
            if self.tspec.clip_grad:
                accelerator.clip_grad_norm_(model.parameters(), self.tspec.clip_grad)
            self.optimizer.step()
            self.state["step"] += 1
            self.trackers.log_step(terms, self.state["step"], top_lr(self.scheduler))
            if not self.optimizer.step_was_skipped:  # fp16: an overflowing step is not an update
                self.scheduler.step()
                update_ema(self.ema, self.unwrapped, self.state["step"])
            self.optimizer.zero_grad(set_to_none=True)
        return terms, images.shape[0]

    def _evaluate(self) -> Evaluation:
        """The live weights' evaluation; with ``train.ema``, the average's metrics added as ``ema_*``
        (its own evaluation kept as ``judged_evaluation`` when ``best_metric`` judges the average)."""
        with compiler_errors():
            evaluation = evaluate(self.accelerator, self.model, self.task, self.val_loader)
            self.judged_evaluation = evaluation
            if self.ema is not None:
                average = evaluate(self.accelerator, self.ema.module, self.task, self.val_loader)
                evaluation.metrics.update(ema_metrics(average.metrics))
                if self.best_parts.model is self.ema.module:
                    self.judged_evaluation = average
        return evaluation

    def end_epoch(self, epoch: int) -> None:
        accelerator, state, task = self.accelerator, self.state, self.task
        evaluation = self._evaluate()
        self._note_skipped(evaluation.skipped)
        self.last_evaluation = evaluation
        metrics = evaluation.metrics
        record = {
            "epoch": epoch + 1,
            "step": state["step"],
            "lr": top_lr(self.scheduler),
            **{f"train_{k}": v / max(1, state["seen"]) for k, v in state["sums"].items()},
            **{f"val_{k}": v for k, v in metrics.items()},
            "images_per_s": state["seen"] * accelerator.num_processes / state["train_time"] if state["train_time"] else None,
            "step_time_s": state["train_time"] / max(1, self.batches_this_epoch),
            "peak_mem_mb": peak_memory_mb(accelerator.device), "threads": torch.get_num_threads(),  # results depend on it
        }
        improved = self._update_best(epoch, metrics)
        if self.main:
            append_metrics(self.out_dir / METRICS_FILE, record)
            if hasattr(task, "save_artifacts"):  # optional: pictures such as a confusion matrix
                task.save_artifacts(evaluation.logits, evaluation.target, self.out_dir, "val_")
            if self.grid is not None:
                save_reconstruction_grid(self.unwrapped, self.grid.images, self.out_dir / "recon" / f"epoch_{epoch + 1:03d}.png", self.grid.titles)
        self.trackers.log_epoch(record)
        shown = {k: v for k, v in record.items() if k in ("epoch", "train_loss", f"val_{task.headline}", "images_per_s")}
        accelerator.print(" ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in shown.items()))
        state.update(sums={}, seen=0, train_time=0.0)
        next_state = {**state, "epoch": epoch + 1, "batch": 0}
        # best before last: a stop between the two leaves `last` at the epoch before, which a resume
        # trains again, and never a `best` older than the best that `last` records
        if improved:  # with the per-sample outputs of these weights, which the summary and sweeps report
            predictions = evaluation_arrays(self.judged_evaluation) if self.main else None
            save_checkpoint(accelerator, self.out_dir / "checkpoints" / "best", self.best_parts, next_state, predictions)
        save_checkpoint(accelerator, self.last_dir, self.resumable, next_state)

    def _update_best(self, epoch: int, metrics: dict[str, float]) -> bool:
        """Whether this epoch is the best so far by ``best_metric`` in the task's direction; an
        undefined (NaN) value never is."""
        value = metrics.get(self.best_metric)
        if value is None or value != value:
            return False
        best = self.state["best"]
        higher = self.task.higher_is_better(self.best_metric.removeprefix(EMA_PREFIX) if self.ema is not None else self.best_metric)
        if best is not None and not (value > best["value"] if higher else value < best["value"]):
            return False
        self.state["best"] = {"epoch": epoch + 1, "metric": self.best_metric, "value": value}
        return True

    # ------------------------------------------------------------------ the end
    def finish(self) -> dict[str, Any]:
        accelerator = self.accelerator
        if self.last_evaluation is None:  # resumed at the very end: evaluate the final weights again
            self.last_evaluation = self._evaluate()
        summary: dict[str, Any] = {}
        if self.main:
            for directory in (self.last_dir, self.out_dir / "checkpoints" / "best"):
                tidy_checkpoint(directory)
            save_models(self)
        accelerator.wait_for_everyone()  # the others are done: what follows runs on the main process alone
        if self.main:
            summary = write_summary(self)
            accelerator.print(f"done: {self.out_dir} ({self.task.headline}={summary['final'].get(self.task.headline)})")
        self.trackers.finish()
        return summary
