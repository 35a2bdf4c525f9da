"""The L-SSAT model: one shared backbone, a task head and an SSL objective.

Two passes per training step, as in the SSAT reference: the whole image of the ``classify``
modality through the backbone to the task head, and a masked view (the objective's choice)
through the same backbone to the objective's decoder. Descriptor modalities are computed on the
device, from the augmented batch, without gradients and outside autocast (so their codes stay
exact under bf16/fp16). Every modality is then normalised once, on the device, before it reaches
the backbone or serves as a reconstruction target (:func:`modality_normalisation`, docs/method.md):
the RGB image with the backbone's mean and std per channel (a timm model's data config), every
other map with their averages on each of its channels.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from ..errors import LssatError, PluginFaultError, SpecError
from ..images import as_unit_float
from ..interfaces import IMAGENET_MEAN, IMAGENET_STD, Backbone, DatasetInfo, SSLObjective, SSLOutput, Task, match_channels
from ..plugins.contracts import dry_check, raised_in
from ..spec.resolved import ResolvedSpec
from .compat import compatibility_problems


class LSSATModel(nn.Module):
    def __init__(
        self,
        backbone: Backbone,
        objective: SSLObjective,
        descriptors: dict[str, nn.Module],
        classify: str,
        num_outputs: int,
        image_size: tuple[int, int],
        image_modalities: tuple[str, ...] = ("rgb",),
    ):
        super().__init__()
        self.backbone = backbone
        self.objective = objective
        self.descriptors = nn.ModuleDict(descriptors)
        self.classify = classify
        self.head = nn.Linear(backbone.num_features, num_outputs)
        nn.init.trunc_normal_(self.head.weight, std=0.02)
        nn.init.zeros_(self.head.bias)
        stats = image_normalisation(backbone)
        self.normalisers = nn.ModuleDict(
            {name: Normalise(*modality_normalisation(stats, d.channels, name in image_modalities)) for name, d in descriptors.items()}
        )
        objective.attach(backbone, {name: d.channels for name, d in descriptors.items()}, image_size)

    def modalities(self, images: torch.Tensor, names) -> dict[str, torch.Tensor]:
        """Each named modality of ``images`` (RGB in [0, 1]) as its descriptor gives it, in [0, 1]."""
        with torch.no_grad(), torch.autocast(device_type=images.device.type, enabled=False):
            images = images.float()
            return {name: self.descriptors[name](images) for name in names}

    def normalise(self, maps: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """Modalities in [0, 1] -> the space the backbone reads and the decoder predicts."""
        with torch.no_grad(), torch.autocast(device_type=next(iter(maps.values())).device.type, enabled=False):
            return {name: self.normalisers[name](x.float()) for name, x in maps.items()}

    def input_normalisation(self) -> dict[str, dict[str, list[float]]]:
        """``{modality: {"mean": [...], "std": [...]}}`` per channel, as :meth:`normalise` applies
        them (a run records this beside its results)."""
        return {name: normaliser.stats() for name, normaliser in self.normalisers.items()}

    def forward(self, images: torch.Tensor, ssl: bool = True) -> tuple[torch.Tensor, SSLOutput]:
        images = as_unit_float(images)
        wanted = [self.classify, *(self.objective.modalities if ssl else [])]
        inputs = self.normalise(self.modalities(images, dict.fromkeys(wanted)))
        features = self.backbone.forward_pooled(match_channels(inputs[self.classify], self.backbone.in_chans))
        logits = self.head(features)
        out = self.objective(self.backbone, inputs) if ssl and self.objective.modalities else SSLOutput()
        return logits, out


class Normalise(nn.Module):
    """``(x - mean) / std`` per channel. The statistics are buffers that follow the model to its
    device but are not saved: they are the backbone's and the rule's, recomputed at every build."""

    def __init__(self, mean: list[float], std: list[float]):
        super().__init__()
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32).view(1, -1, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(std, dtype=torch.float32).view(1, -1, 1, 1), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean) / self.std

    def undo(self, x: torch.Tensor) -> torch.Tensor:
        """Back to [0, 1] units (for pictures)."""
        return x * self.std.to(x.dtype) + self.mean.to(x.dtype)

    def stats(self) -> dict[str, list[float]]:
        return {"mean": self.mean.flatten().tolist(), "std": self.std.flatten().tolist()}


def image_normalisation(backbone: Backbone) -> dict[str, tuple[float, ...]]:
    """The RGB mean and std (3 values each) the backbone expects: its ``image_normalisation()``
    (ImageNet's for a backbone without one); a single value stands for all three channels."""
    method = getattr(backbone, "image_normalisation", None)
    stats = method() if callable(method) else {"mean": IMAGENET_MEAN, "std": IMAGENET_STD}
    out = {}
    for key in ("mean", "std"):
        values = tuple(float(v) for v in stats[key])
        if len(values) not in (1, 3):
            raise ValueError(f"image_normalisation() must give 1 or 3 {key} values (RGB), got {len(values)}")
        out[key] = values * 3 if len(values) == 1 else values
    if min(out["std"]) <= 0:
        raise ValueError(f"image_normalisation() gave a std that is not positive: {out['std']}")
    return out


def modality_normalisation(stats: dict[str, tuple[float, ...]], channels: int, image: bool) -> tuple[list[float], list[float]]:
    """Mean and std per channel of a modality of ``channels`` channels in [0, 1]. The RGB image
    (``image``) takes the backbone's per-channel values; every other map (gray, descriptors)
    takes their averages on each of its channels, i.e. is normalised as the backbone would
    normalise a gray image, whatever its channel count (docs/method.md, "Input spaces")."""
    if image and channels == 3:
        return list(stats["mean"]), list(stats["std"])
    mean, std = sum(stats["mean"]) / 3, sum(stats["std"]) / 3
    return [mean] * channels, [std] * channels


@dataclass
class BuiltRun:
    model: LSSATModel
    task: Task
    source: object | None  # DatasetSource; None when built from a stored DatasetInfo


def build(resolved: ResolvedSpec, info: DatasetInfo | None = None, source: object | None = None) -> BuiltRun:
    """Build the dataset, task and model of a validated spec; refuse parts that do not fit
    together (:func:`~lssat_framework.model.compat.compatibility_problems`, the checks ``lssat
    validate`` runs without data) and parts that break their contract in a dry forward of a tiny
    batch (:func:`~lssat_framework.plugins.contracts.dry_check`), before anything trains. Given ``info``
    (what a finished run stored of its dataset), the dataset is not opened: the model and task
    are built for it. Given ``source``, that dataset is used instead of building it again."""
    spec = resolved.spec
    if source is None and info is None:
        source = resolved.components["data"].build()
    task = resolved.components["task"].build()
    info = info if info is not None else source.info
    num_outputs = task.bind(info)
    backbone = resolved.components["backbone"].build()
    objective = resolved.components["ssl"].build()
    descriptors = {name: rc.build() for name, rc in resolved.modalities.items()}

    problems = compatibility_problems(spec, backbone, objective, descriptors, tuple(info.image_size))
    if problems:
        raise SpecError(problems, source=resolved.source)
    model = _assemble(resolved, backbone, objective, descriptors, num_outputs, tuple(info.image_size))
    dry_check(resolved, model, task, info)
    return BuiltRun(model=model, task=task, source=source)


def _assemble(resolved: ResolvedSpec, backbone, objective, descriptors, num_outputs: int, image_size: tuple[int, int]) -> LSSATModel:
    """The model; a raise while the objective attaches its layers to the backbone is the
    objective's plugin's (or, outside ``attach``, the backbone's: e.g. no ``num_features``)."""
    try:
        images = tuple(name for name, rc in resolved.modalities.items() if rc.component.name == "rgb")
        return LSSATModel(backbone, objective, descriptors, resolved.spec.classify, num_outputs, image_size, images)
    except LssatError:
        raise
    except Exception as exc:
        in_attach = raised_in(exc, getattr(type(objective), "attach", None))
        owner = resolved.components["ssl" if in_attach else "backbone"].component
        step = "attach (the objective's layers for this backbone)" if in_attach else "the model's assembly"
        raise PluginFaultError(f"{owner.blame}: {step} raised {type(exc).__name__}: {exc}") from exc


def count_parameters(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())
