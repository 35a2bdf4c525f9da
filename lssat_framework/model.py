"""The L-SSAT model: one shared backbone, a task head and an SSL objective.

Two passes per training step, as in the SSAT reference: the whole image of the ``classify``
modality through the backbone to the task head, and a masked view (the objective's choice)
through the same backbone to the objective's decoder. Descriptor modalities are computed on the
device, from the augmented batch, without gradients and outside autocast (so their codes stay
exact under bf16/fp16).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from .compat import compatibility_problems
from .contracts import dry_check, raised_in
from .errors import LssatError, PluginFaultError, SpecError
from .images import as_unit_float
from .interfaces import Backbone, DatasetInfo, SSLObjective, SSLOutput, Task, match_channels
from .spec import ResolvedSpec


class LSSATModel(nn.Module):
    def __init__(
        self,
        backbone: Backbone,
        objective: SSLObjective,
        descriptors: dict[str, nn.Module],
        classify: str,
        num_outputs: int,
        image_size: tuple[int, int],
    ):
        super().__init__()
        self.backbone = backbone
        self.objective = objective
        self.descriptors = nn.ModuleDict(descriptors)
        self.classify = classify
        self.head = nn.Linear(backbone.num_features, num_outputs)
        nn.init.trunc_normal_(self.head.weight, std=0.02)
        nn.init.zeros_(self.head.bias)
        objective.attach(backbone, {name: d.channels for name, d in descriptors.items()}, image_size)

    def modalities(self, images: torch.Tensor, names) -> dict[str, torch.Tensor]:
        with torch.no_grad(), torch.autocast(device_type=images.device.type, enabled=False):
            images = images.float()
            return {name: self.descriptors[name](images) for name in names}

    def forward(self, images: torch.Tensor, ssl: bool = True) -> tuple[torch.Tensor, SSLOutput]:
        images = as_unit_float(images)
        wanted = [self.classify, *(self.objective.modalities if ssl else [])]
        inputs = self.modalities(images, dict.fromkeys(wanted))
        features = self.backbone.forward_pooled(match_channels(inputs[self.classify], self.backbone.in_chans))
        logits = self.head(features)
        out = self.objective(self.backbone, inputs) if ssl and self.objective.modalities else SSLOutput()
        return logits, out


@dataclass
class BuiltRun:
    model: LSSATModel
    task: Task
    source: object | None  # DatasetSource; None when built from a stored DatasetInfo


def build(resolved: ResolvedSpec, info: DatasetInfo | None = None, source: object | None = None) -> BuiltRun:
    """Build the dataset, task and model of a validated spec; refuse parts that do not fit
    together (:func:`~lssat_framework.compat.compatibility_problems`, the checks ``lssat
    validate`` runs without data) and parts that break their contract in a dry forward of a tiny
    batch (:func:`~lssat_framework.contracts.dry_check`), before anything trains. Given ``info``
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
        return LSSATModel(backbone, objective, descriptors, resolved.spec.classify, num_outputs, image_size)
    except LssatError:
        raise
    except Exception as exc:
        in_attach = raised_in(exc, getattr(type(objective), "attach", None))
        owner = resolved.components["ssl" if in_attach else "backbone"].component
        step = "attach (the objective's layers for this backbone)" if in_attach else "the model's assembly"
        raise PluginFaultError(f"{owner.blame}: {step} raised {type(exc).__name__}: {exc}") from exc


def count_parameters(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())
