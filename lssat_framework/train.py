"""Training and evaluation through accelerate: one run, resumable, writing everything it measures.

A run directory holds:

``spec.yaml``           the resolved spec;  ``plugins.json`` the plugin versions
``metrics.jsonl``       one JSON line per epoch: loss terms, task metrics, images/s, step time, peak memory
``summary.json``        written last: final and best metrics (a run with it is finished)
``checkpoints/last``    accelerate state (model, optimiser, scheduler, RNG) + ``trainer_state.json``
``checkpoints/best``    the same at the best epoch by ``train.best_metric``
``model.safetensors``   the whole model;  ``backbone.safetensors`` the backbone under its own names
``recon/epoch_NNN.png`` reconstruction grids; task artifacts (e.g. ``val_confusion.png``)
"""

from __future__ import annotations

import json
import math
import os
import resource
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import torch
import yaml

from .errors import LssatError, TrainingError
from .model import BuiltRun, build, count_parameters
from .spec import ResolvedSpec, TrainSpec

STATE_FILE = "trainer_state.json"


# ------------------------------------------------------------------ helpers
def make_accelerator(train: TrainSpec, find_unused: bool, log_dir: Path | None = None):
    from accelerate import Accelerator
    from accelerate.utils import DistributedDataParallelKwargs

    cpu = train.cpu or not torch.cuda.is_available()
    if train.precision == "fp16" and cpu:
        raise LssatError("train.precision: fp16 needs a GPU; on the CPU use 'bf16' or 'no'")
    tracking = {}
    if train.tensorboard and log_dir is not None:
        try:
            import tensorboard  # noqa: F401
        except ImportError:
            raise LssatError("train.tensorboard: needs the tensorboard package (pip install tensorboard)") from None
        tracking = {"log_with": "tensorboard", "project_dir": str(log_dir)}
    return Accelerator(
        cpu=cpu,
        mixed_precision=train.precision,
        gradient_accumulation_steps=train.grad_accum,
        kwargs_handlers=[DistributedDataParallelKwargs(find_unused_parameters=find_unused)],
        **tracking,
    )


class EpochShuffle(torch.utils.data.Sampler):
    """A shuffle that depends only on (seed, epoch): resuming mid-epoch replays the same order."""

    def __init__(self, length: int, seed: int):
        self.length, self.seed, self.epoch = length, seed, 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return self.length

    def __iter__(self):
        generator = torch.Generator().manual_seed(self.seed * 100_003 + self.epoch)
        return iter(torch.randperm(self.length, generator=generator).tolist())


def augment(images: torch.Tensor, train: TrainSpec) -> torch.Tensor:
    """Per-sample random resized crop, RandAugment and flip, on the device, before any descriptor
    is computed (so that the texture targets match the augmented input)."""
    batch = images.shape[0]
    if train.augment.resized_crop is not None:
        from torchvision.ops import roi_align

        low, high = train.augment.resized_crop
        height, width = images.shape[-2:]
        scale = torch.empty(batch, device=images.device).uniform_(low, high).sqrt()
        h, w = scale * height, scale * width
        y0 = torch.rand(batch, device=images.device) * (height - h)
        x0 = torch.rand(batch, device=images.device) * (width - w)
        boxes = torch.stack([torch.arange(batch, device=images.device, dtype=h.dtype), x0, y0, x0 + w, y0 + h], dim=1)
        images = roi_align(images, boxes.to(images.dtype), output_size=(height, width), aligned=True).clamp(0, 1)
    if train.augment.randaugment is not None:
        from torchvision.transforms import v2

        operations, magnitude = train.augment.randaugment
        randaugment = v2.RandAugment(num_ops=operations, magnitude=magnitude)
        as_bytes = (images * 255).round().to(torch.uint8)
        images = torch.stack([randaugment(image) for image in as_bytes]).to(images.dtype) / 255
    if train.augment.flip:
        flip = torch.rand(batch, device=images.device) < 0.5
        images = torch.where(flip.view(-1, 1, 1, 1), images.flip(-1), images)
    return images


def lr_lambda(total_steps: int, warmup_steps: int, min_ratio: float):
    """Linear warm-up, then a half-cycle cosine down to ``min_ratio`` of the peak."""

    def factor(step: int) -> float:
        if step < warmup_steps:
            return (step + 1) / warmup_steps
        progress = (step - warmup_steps) / max(1, total_steps - warmup_steps)
        return min_ratio + (1 - min_ratio) * 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))

    return factor


def param_groups(model: torch.nn.Module, weight_decay: float):
    """Weight decay on weights only: not on norms, biases, tokens and position tables."""
    decay, no_decay = [], []
    for name, param in model.named_parameters():
        if not param.requires_grad:
            continue
        skip = param.ndim <= 1 or name.endswith(".bias") or any(t in name for t in ("pos_embed", "cls_token", "mask_token", "reg_token"))
        (no_decay if skip else decay).append(param)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


def peak_memory_mb(device: torch.device) -> float:
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def write_json_atomic(path: Path, data: Any) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2))
    os.replace(tmp, path)


def _finite(value: Any) -> Any:
    """``value`` with every non-finite float, at any depth, replaced by ``None`` (JSON null)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


# -------------------------------------------------------------- evaluation
@torch.no_grad()
def evaluate(accelerator, model, task, loader) -> tuple[dict[str, float], torch.Tensor, torch.Tensor]:
    """Task metrics over the whole split, gathered across processes (padding samples dropped)."""
    model.eval()
    logits_all, targets_all, extras_all = [], [], {}
    for batch in loader:
        logits, _ = model(batch["image"], ssl=False)
        target = batch["labels"][task.label]
        extras = {}
        if "video" in batch:
            extras["video"] = batch["video"]
        for group, values in batch.get("groups", {}).items():
            extras[f"group:{group}"] = values
        logits, target, extras = accelerator.gather_for_metrics((logits, target, extras))
        logits_all.append(logits.float().cpu())
        targets_all.append(target.cpu())
        for key, value in extras.items():
            extras_all.setdefault(key, []).append(value.cpu())
    logits = torch.cat(logits_all)
    target = torch.cat(targets_all)
    extras = {k: torch.cat(v) for k, v in extras_all.items() if not k.startswith("group:")}
    extras["groups"] = {k[len("group:") :]: torch.cat(v) for k, v in extras_all.items() if k.startswith("group:")}
    metrics = task.metrics(logits, target, extras)
    metrics["count"] = int(len(target))
    model.train()
    return metrics, logits, target


# ------------------------------------------------------------------ pictures
def save_reconstruction_grid(model, images: torch.Tensor, path: Path) -> bool:
    """Rows: input, masked input, then per reconstructed modality its target and its
    reconstruction (the predicted masked patches, pasted among the visible ones, as MAE shows it)."""
    from torchvision.utils import save_image

    objective = model.objective
    if not objective.modalities:
        return False
    with torch.no_grad(), torch.random.fork_rng(devices=[] if images.device.type == "cpu" else [images.device]):
        torch.manual_seed(0)
        model.eval()
        _, out = model(images)
        model.train()
    if out.mask is None or not out.predictions:
        return False
    inputs = model.modalities(images, list(dict.fromkeys(objective.modalities)))
    pixel_mask = model.backbone.pixel_mask(out.mask, images.shape[-2:])

    def shown(x):  # 3-channel picture of any modality: RGB as is, others by their first channel
        x = x.float().clamp(0, 1)
        return x if x.shape[1] == 3 else x[:, :1].expand(-1, 3, -1, -1)

    masked_name = getattr(objective, "mask_modality", objective.modalities[0])
    picture = [shown(images), shown(inputs[masked_name]) * (1 - pixel_mask) + 0.5 * pixel_mask]
    for name, prediction in out.predictions.items():
        target = shown(inputs[name])  # reconstruction: predicted masked patches, visible ones as given
        picture += [target, shown(prediction) * pixel_mask + target * (1 - pixel_mask)]
    path.parent.mkdir(parents=True, exist_ok=True)
    save_image(torch.cat(picture).cpu(), path, nrow=images.shape[0], padding=1)
    return True


# ---------------------------------------------------------------- checkpoints
def _save_checkpoint(accelerator, directory: Path, state: dict[str, Any]) -> None:
    """Write accelerate's state to ``<dir>.tmp`` and swap it in: a kill never leaves a broken one."""
    tmp = directory.with_name(directory.name + ".tmp")
    if accelerator.is_main_process and tmp.exists():
        shutil.rmtree(tmp)
    accelerator.wait_for_everyone()
    accelerator.save_state(str(tmp))
    if accelerator.is_main_process:
        write_json_atomic(tmp / STATE_FILE, state)
        old = directory.with_name(directory.name + ".old")
        if directory.exists():
            os.replace(directory, old)
        os.replace(tmp, directory)
        if old.exists():
            shutil.rmtree(old)
    accelerator.wait_for_everyone()


def find_checkpoint(directory: Path) -> Path | None:
    for candidate in (directory, directory.with_name(directory.name + ".old")):
        if (candidate / STATE_FILE).is_file():
            return candidate
    return None


# ---------------------------------------------------------------------- run
def run_spec(resolved: ResolvedSpec, out: str | Path | None = None, resume: bool = False) -> dict[str, Any]:
    if resolved.spec.sweep:
        from .sweep import run_sweep

        return run_sweep(resolved, out=out)  # a sweep resumes each started variant by itself
    return train(resolved, Path(out) if out else Path("runs") / resolved.spec.name, resume=resume)


def train(resolved: ResolvedSpec, out_dir: Path, resume: bool = False) -> dict[str, Any]:
    from accelerate.utils import set_seed
    from tqdm.auto import tqdm

    spec = resolved.spec
    tspec = spec.train
    last_dir = out_dir / "checkpoints" / "last"
    checkpoint = find_checkpoint(last_dir) if resume else None
    if resume and checkpoint is None:
        raise LssatError(f"--resume: no checkpoint in {last_dir}; run without --resume to start")
    if not resume and (out_dir / "metrics.jsonl").exists():
        raise LssatError(f"{out_dir} already holds a run; pass --resume to continue it or --out to choose another directory")

    set_seed(spec.seed)
    built: BuiltRun = build(resolved)
    model, task, source = built.model, built.task, built.source
    accelerator = make_accelerator(tspec, find_unused=not model.objective.modalities, log_dir=out_dir / "tensorboard")
    if tspec.tensorboard:
        accelerator.init_trackers(spec.name)
    set_seed(spec.seed)  # the same stream on every process and on resume

    train_set, val_set = source.split("train"), source.split("val")
    sampler = EpochShuffle(len(train_set), spec.seed)
    # loaders draw their base seed from their own generator, not from the global RNG whose state
    # a checkpoint restores: a resumed run then replays exactly the same random stream
    loader_args = dict(num_workers=tspec.num_workers, pin_memory=accelerator.device.type == "cuda", generator=torch.Generator().manual_seed(spec.seed))
    train_loader = torch.utils.data.DataLoader(train_set, batch_size=tspec.batch_size, sampler=sampler, **loader_args)
    val_loader = torch.utils.data.DataLoader(val_set, batch_size=tspec.eval_batch_size or tspec.batch_size, shuffle=False, **loader_args)

    effective_batch = tspec.batch_size * tspec.grad_accum * accelerator.num_processes
    lr = tspec.lr or tspec.base_lr * effective_batch / 256
    optimizer = torch.optim.AdamW(param_groups(model, tspec.weight_decay), lr=lr, betas=(0.9, 0.95))
    batches_per_epoch = len(train_loader) if tspec.max_batches is None else min(len(train_loader), tspec.max_batches)
    # the loader is sharded by prepare(); count batches and steps per process
    per_process = math.ceil(batches_per_epoch / accelerator.num_processes)
    steps_per_epoch = max(1, math.ceil(per_process / tspec.grad_accum))
    total_steps = steps_per_epoch * tspec.epochs
    warmup = int(tspec.warmup_epochs * steps_per_epoch)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_lambda(total_steps, warmup, tspec.min_lr / lr))
    model, optimizer, train_loader, val_loader, scheduler = accelerator.prepare(model, optimizer, train_loader, val_loader, scheduler)
    unwrapped = accelerator.unwrap_model(model)

    state = {"epoch": 0, "batch": 0, "step": 0, "sums": {}, "seen": 0, "train_time": 0.0, "best": None}
    if checkpoint is not None:
        accelerator.load_state(str(checkpoint), load_kwargs={"weights_only": True})  # no pickled code from disk
        state = json.loads((checkpoint / STATE_FILE).read_text())
        accelerator.print(f"resuming {out_dir} at epoch {state['epoch'] + 1}, batch {state['batch']}")

    main = accelerator.is_main_process
    if main:
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / "spec.yaml").write_text(yaml.safe_dump(resolved.raw, sort_keys=False))
        from .plugins import get_plugin_manager

        plugins = {i.name: {"distribution": i.distribution, "version": i.version, "status": i.status} for i in get_plugin_manager().report()}
        write_json_atomic(out_dir / "plugins.json", plugins)
        _truncate_metrics(out_dir / "metrics.jsonl", state["epoch"])

    best_metric = tspec.best_metric or task.headline
    grid_images = None
    if tspec.recon_grid and main and unwrapped.objective.modalities:
        grid_images = torch.stack([val_set[i]["image"] for i in range(min(8, len(val_set)))]).to(accelerator.device)

    def checkpoint_state(epoch, batch):
        return {**state, "epoch": epoch, "batch": batch}

    for epoch in range(state["epoch"], tspec.epochs):
        sampler.set_epoch(epoch)
        train_loader.set_epoch(epoch)
        start_batch = state["batch"] if epoch == state["epoch"] else 0  # sums were reset at the last epoch end
        loader = accelerator.skip_first_batches(train_loader, start_batch) if start_batch else train_loader
        bar = tqdm(total=per_process, initial=start_batch, desc=f"epoch {epoch + 1}/{tspec.epochs}", disable=not main, leave=False, file=sys.stderr, mininterval=0.1 if sys.stderr.isatty() else 10)
        batch_index = start_batch
        tick = time.perf_counter()
        for batch in loader:
            if batch_index >= per_process:
                break
            with accelerator.accumulate(model):
                images = augment(batch["image"], tspec)
                logits, ssl_out = model(images)
                task_loss = task.loss(logits.float(), batch["labels"][task.label])
                ssl_loss = sum(ssl_out.losses.values()) if ssl_out.losses else torch.zeros((), device=images.device)
                loss = spec.loss.task * task_loss + spec.loss.ssl * ssl_loss
                if not torch.isfinite(loss):
                    terms = {"task": task_loss.item(), **{k: v.item() for k, v in ssl_out.losses.items()}}
                    raise TrainingError(
                        f"non-finite loss at epoch {epoch + 1}, batch {batch_index} ({terms}); lower train.lr or use precision 'no'. "
                        f"The last good checkpoint is in {last_dir}"
                    )
                accelerator.backward(loss)
                if tspec.clip_grad and accelerator.sync_gradients:
                    accelerator.clip_grad_norm_(model.parameters(), tspec.clip_grad)
                optimizer.step()
                scheduler.step()
                optimizer.zero_grad(set_to_none=True)
            count = images.shape[0]
            terms = {"loss": loss.item(), "loss_task": task_loss.item(), **{f"loss_{k}": v.item() for k, v in ssl_out.losses.items()}}
            for key, value in terms.items():
                state["sums"][key] = state["sums"].get(key, 0.0) + value * count
            state["seen"] += count
            batch_index += 1
            if accelerator.sync_gradients:
                state["step"] += 1
            now = time.perf_counter()
            state["train_time"] += now - tick
            tick = now
            bar.update(1)
            bar.set_postfix({k: f"{v / state['seen']:.4f}" for k, v in state["sums"].items() if k in ("loss", "loss_task")}, refresh=False)
            if tspec.checkpoint_every and accelerator.sync_gradients and state["step"] % tspec.checkpoint_every == 0 and batch_index < per_process:
                _save_checkpoint(accelerator, last_dir, checkpoint_state(epoch, batch_index))
                tick = time.perf_counter()
        bar.close()

        metrics, logits, target = evaluate(accelerator, model, task, val_loader)
        seen_total = state["seen"] * accelerator.num_processes
        record = {
            "epoch": epoch + 1,
            "step": state["step"],
            "lr": scheduler.get_last_lr()[0],
            **{f"train_{k}": v / max(1, state["seen"]) for k, v in state["sums"].items()},
            **{f"val_{k}": v for k, v in metrics.items()},
            "images_per_s": seen_total / state["train_time"] if state["train_time"] else None,
            "step_time_s": state["train_time"] / max(1, batch_index),
            "peak_mem_mb": peak_memory_mb(accelerator.device),
        }
        value = metrics.get(best_metric)
        if value is None:
            raise LssatError(f"train.best_metric: '{best_metric}' is not a metric of this task; it reports {sorted(metrics)}")
        lower_is_better = best_metric in ("eer",) or best_metric.startswith("loss")
        improved = state["best"] is None or (
            math.isfinite(value) and (value < state["best"]["value"] if lower_is_better else value > state["best"]["value"])
        )
        if improved:
            state["best"] = {"epoch": epoch + 1, "metric": best_metric, "value": value}
        if main:
            with open(out_dir / "metrics.jsonl", "a") as handle:
                handle.write(json.dumps(_finite(record)) + "\n")
            if hasattr(task, "save_artifacts"):  # optional: pictures such as a confusion matrix
                task.save_artifacts(logits, target, out_dir, "val_")
            if grid_images is not None:
                save_reconstruction_grid(unwrapped, grid_images, out_dir / "recon" / f"epoch_{epoch + 1:03d}.png")
        if tspec.tensorboard:
            accelerator.log({k: v for k, v in record.items() if isinstance(v, (int, float)) and v is not None}, step=epoch + 1)
        shown = {k: v for k, v in record.items() if k in ("epoch", "train_loss", f"val_{task.headline}", "images_per_s")}
        accelerator.print(" ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in shown.items()))
        state.update(sums={}, seen=0, train_time=0.0)
        next_state = checkpoint_state(epoch + 1, 0)
        _save_checkpoint(accelerator, last_dir, next_state)
        if improved:
            _save_checkpoint(accelerator, out_dir / "checkpoints" / "best", next_state)

    # datasets that skip unreadable files (on_corrupt: skip) say which; the summary counts them
    skipped = set(getattr(train_set, "skipped", ())) | set(getattr(val_set, "skipped", ()))
    summary = _finish(accelerator, unwrapped, out_dir, resolved, task, state, skipped)
    accelerator.end_training()
    return summary


def _truncate_metrics(path: Path, epochs_done: int) -> None:
    """On resume, keep only the lines of epochs that the checkpoint has finished."""
    if not path.exists():
        return
    lines = [line for line in path.read_text().splitlines() if line.strip() and json.loads(line)["epoch"] <= epochs_done]
    path.write_text("".join(line + "\n" for line in lines))


def _finish(accelerator, model, out_dir: Path, resolved: ResolvedSpec, task, state, skipped: set[str]) -> dict[str, Any]:
    summary: dict[str, Any] = {}
    if accelerator.is_main_process:
        from safetensors.torch import save_file

        records = [json.loads(line) for line in (out_dir / "metrics.jsonl").read_text().splitlines() if line.strip()]
        final = records[-1]
        save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(out_dir / "model.safetensors"))
        save_file({k: v.contiguous() for k, v in model.backbone.export_state_dict().items()}, str(out_dir / "backbone.safetensors"))
        spec = resolved.spec
        summary = {
            "name": spec.name,
            "task": resolved.components["task"].component.name,
            "backbone": resolved.components["backbone"].component.name,
            "ssl": resolved.components["ssl"].component.name,
            "classify": spec.classify,
            "headline": task.headline,
            "final": {k[len("val_") :]: v for k, v in final.items() if k.startswith("val_")},
            "best": state["best"],
            "epochs": final["epoch"],
            "parameters": count_parameters(model.backbone) + count_parameters(model.head),
            "images_per_s": sum(r["images_per_s"] or 0 for r in records) / len(records),
            "step_time_s": sum(r["step_time_s"] for r in records) / len(records),
            "peak_mem_mb": max(r["peak_mem_mb"] for r in records),
            "skipped_images": len(skipped),
        }
        write_json_atomic(out_dir / "summary.json", _finite(summary))
        accelerator.print(f"done: {out_dir} ({task.headline}={summary['final'].get(task.headline)})")
    accelerator.wait_for_everyone()
    return summary


def evaluate_checkpoint(resolved: ResolvedSpec, checkpoint: str | Path, split: str = "val") -> dict[str, Any]:
    """Metrics of saved weights (a run directory or a checkpoint folder) on a split."""
    from safetensors.torch import load_file

    checkpoint = Path(checkpoint)
    weights = checkpoint / "model.safetensors" if checkpoint.is_dir() else checkpoint
    if not weights.is_file():
        raise LssatError(f"--checkpoint: no model.safetensors in {checkpoint}")
    built = build(resolved)
    source = built.source
    if split not in source.splits:
        raise LssatError(f"--split: the dataset has splits {list(source.splits)}, not '{split}'")
    built.model.load_state_dict(load_file(str(weights)))
    accelerator = make_accelerator(resolved.spec.train, find_unused=False)
    loader = torch.utils.data.DataLoader(source.split(split), batch_size=resolved.spec.train.eval_batch_size or resolved.spec.train.batch_size)
    model, loader = accelerator.prepare(built.model, loader)
    metrics, _, _ = evaluate(accelerator, model, built.task, loader)
    return _finite(metrics)


def predict(run_dir: str | Path, images: list[str | Path], out_csv: str | Path, batch_size: int = 32) -> int:
    """Scores of the task head of a finished run for image files; one CSV row per image."""
    import csv

    from safetensors.torch import load_file

    from .images import find_images, load_image
    from .spec import load_spec

    run_dir = Path(run_dir)
    weights = run_dir / "model.safetensors"
    if not (run_dir / "spec.yaml").is_file() or not weights.is_file():
        raise LssatError(f"--checkpoint: {run_dir} is not a finished run (it needs spec.yaml and model.safetensors)")
    built = build(load_spec(run_dir / "spec.yaml"))
    model, task = built.model, built.task
    model.load_state_dict(load_file(str(weights)))
    model.eval()
    paths = find_images(images)
    if not paths:
        raise LssatError("predict: no image files given")
    size = built.source.info.image_size[0]
    names = list(getattr(task, "names", []))
    with open(out_csv, "w", newline="") as handle:
        writer = None
        for start in range(0, len(paths), batch_size):
            chunk = paths[start : start + batch_size]
            batch = torch.stack([load_image(p, size) for p in chunk])
            with torch.no_grad():
                logits, _ = model(batch, ssl=False)
                scores = task.scores(logits.float())
            for path, score in zip(chunk, scores):
                row = {"path": str(path), **_score_columns(score, names)}
                if writer is None:
                    writer = csv.DictWriter(handle, fieldnames=list(row))
                    writer.writeheader()
                writer.writerow(row)
    return len(paths)


def _score_columns(score: torch.Tensor, names: list[str]) -> dict[str, Any]:
    """Binary: the positive class's probability and the label; multi-class: every class's
    probability and the arg-max; multi-label: every label's probability."""
    if score.ndim == 0:
        label = names[int(score >= 0.5)] if len(names) == 2 else int(score >= 0.5)
        return {f"p_{names[1] if len(names) == 2 else 'positive'}": round(float(score), 6), "label": label}
    columns = {f"p_{name}": round(float(p), 6) for name, p in zip(names, score)}
    if abs(float(score.sum()) - 1) < 1e-4:  # a softmax: one class
        columns["label"] = names[int(score.argmax())]
    return columns
