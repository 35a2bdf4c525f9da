"""Commands on a trained run: ``lssat eval`` (metrics of its weights on a split), and the weights
and spec ``lssat predict`` (the room ``predict/``) loads. Both read the run directory only; neither writes to it.

The weights: a run directory means its best checkpoint (by ``train.best_metric``) when it has
one, else its final model; a checkpoint folder or a ``.safetensors`` file means exactly that file.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Sequence

import torch

from ..errors import LssatError
from ..model.lssat_model import build
from ..spec.changes import RESOLVED_FILE
from ..spec.resolved import ResolvedSpec
from ..spec.validation import load_spec
from .accelerator import make_accelerator
from .evaluation import Evaluation, evaluate
from .rundir import SPEC_FILE, TrainedWeights, find_weights, finite
from .tensor_tree import load_safetensors

#: the spec sections that decide the model's layers: they must match the run's own spec
MODEL_SECTIONS = ("backbone", "descriptors", "ssl", "classify", "task")


def load_weights(model: torch.nn.Module, weights: TrainedWeights) -> None:
    state = load_safetensors(weights.file)  # never a pickle: a .pth or .bin is refused as unreadable
    try:
        model.load_state_dict(state)
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()[0]
        raise LssatError(
            f"--checkpoint: the weights in {weights.file} do not fit the model this spec builds ({first} ...); "
            f"evaluate with the run's own spec, {weights.run_dir / SPEC_FILE if weights.run_dir else 'the spec it was trained with'}"
        ) from None


def run_spec(weights: TrainedWeights, overrides: list[str]) -> ResolvedSpec:
    if weights.run_dir is None:
        raise LssatError(f"--checkpoint: {weights.file} is not inside a run directory; give the spec it was trained with")
    return load_spec(weights.run_dir / SPEC_FILE, overrides)


def spec_for_checkpoint(resolved: ResolvedSpec | None, weights: TrainedWeights, overrides: list[str] = ()) -> ResolvedSpec:
    """The spec to evaluate ``weights`` with: the run's own resolved spec when none is given or the
    given one is a sweep (a variant's data and model are its own, not the base spec's); otherwise
    the given spec (e.g. the same model on another dataset), whose model sections must match the run's."""
    if resolved is None or resolved.spec.sweep:
        return run_spec(weights, list(overrides))
    if weights.run_dir is not None:
        stored = run_spec(weights, []).raw
        differ = [key for key in MODEL_SECTIONS if stored.get(key) != resolved.raw.get(key)]
        if differ:
            raise LssatError(
                f"--checkpoint: the spec's {', '.join(differ)} differ from the run's own ({weights.run_dir / SPEC_FILE}); "
                f"the weights fit only that model. Evaluate with `lssat eval {weights.run_dir / SPEC_FILE} --checkpoint {weights.run_dir}`"
            )
    return resolved


def evaluate_checkpoint(resolved: ResolvedSpec | None, checkpoint: str | Path, split: str = "val", overrides: list[str] = ()) -> dict[str, Any]:
    """Metrics of saved weights on a split of the spec's dataset."""
    evaluation, _ = checkpoint_evaluation(resolved, checkpoint, split, overrides)
    return finite(evaluation.metrics)


def warn_if_trained_unnormalised(weights: TrainedWeights) -> None:
    """Runs of lssat-framework 0.1 saw inputs in [0, 1], not normalised as the backbone's weights
    expect (they have no resolved.json): their weights meet other inputs here, so say so."""
    if weights.run_dir is not None and not (weights.run_dir / RESOLVED_FILE).is_file():
        print(f"lssat: warning: {weights.run_dir} was trained before inputs were normalised (lssat-framework 0.1); "
              "its weights now see normalised inputs and its figures here will differ from its summary", file=sys.stderr)


def evaluation_report(resolved: ResolvedSpec | None, checkpoint: str | Path, split: str = "val", overrides: list[str] = ()) -> dict[str, Any]:
    """What ``lssat eval`` writes: the weights and the split it evaluated, how many samples and
    videos, the headline metric with its 95 % interval and chance, and every metric."""
    from .evaluation import headline_figures

    evaluation, task = checkpoint_evaluation(resolved, checkpoint, split, overrides)
    weights = find_weights(checkpoint)
    seed = resolved.spec.seed if resolved is not None else 0
    return finite({
        "checkpoint": str(weights.file), "weights": weights.description, "split": evaluation.split,
        "headline": task.headline, "value": evaluation.metrics.get(task.headline),
        **headline_figures(task, evaluation, seed), "metrics": evaluation.metrics,
    })


class _Alone:
    """What :func:`evaluate` asks of an accelerator, for one process evaluating by itself: nothing to gather."""

    num_processes = 1

    @staticmethod
    def gather_for_metrics(value: Any) -> Any:
        return value


def checkpoint_evaluation(
    resolved: ResolvedSpec | None, checkpoint: str | Path, split: str | Sequence[str] = "val", overrides: list[str] = (), alone=None,
) -> tuple[Evaluation, Any]:
    """The evaluation (metrics and every sample's logits) of saved weights on a split of the
    spec's dataset, and the task bound to it. ``split`` may list several: the first the dataset has.
    ``alone``: an accelerator whose device and precision this process evaluates with by itself,
    the whole split, with no other process taking part (a run's main process once the others are done)."""
    weights = find_weights(checkpoint)
    resolved = spec_for_checkpoint(resolved, weights, overrides)
    warn_if_trained_unnormalised(weights)
    built = build(resolved)
    wanted = [split] if isinstance(split, str) else list(split)
    split = next((name for name in wanted if name in built.source.splits), None)
    if split is None:
        raise LssatError(f"--split: the dataset has splits {list(built.source.splits)}, not {' or '.join(repr(w) for w in wanted)}")
    load_weights(built.model, weights)
    tspec = resolved.spec.train
    loader = torch.utils.data.DataLoader(built.source.split(split), batch_size=tspec.eval_batch_size or tspec.batch_size)
    if alone is not None:
        from accelerate.utils import send_to_device

        print(f"weights: {weights.description} ({weights.file})", file=sys.stderr)
        batches = (send_to_device(batch, alone.device) for batch in loader)
        with alone.autocast():
            evaluation = evaluate(_Alone(), built.model.to(alone.device), built.task, batches)
    else:
        accelerator = make_accelerator(tspec, find_unused=False)
        model, loader = accelerator.prepare(built.model, loader)
        if accelerator.is_main_process:  # stdout is the command's (eval's JSON)
            print(f"weights: {weights.description} ({weights.file})", file=sys.stderr)
        evaluation = evaluate(accelerator, model, built.task, loader)
    evaluation.split = split
    return evaluation, built.task
