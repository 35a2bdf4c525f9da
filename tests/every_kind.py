"""A plugin providing a component of every kind, small enough to train in seconds, for the
tests of runs (``every_kind`` fixture, ``plugin_spec()``)."""
import math

import pytest
import torch
from pydantic import BaseModel
from torch import nn

from lssat_framework import hookimpl
from lssat_framework.interfaces import Backbone, DatasetInfo, DatasetSource, LabelInfo, SSLObjective, SSLOutput, Task
from lssat_framework.plugins import reset_plugin_manager

from conftest import shipped_plugin_manager


class StripesParams(BaseModel):
    size: int = 16
    count: int = 16
    #: a split that is empty (to test how runs refuse one)
    empty: str | None = None


class Stripes(DatasetSource):
    """Horizontal (0) or vertical (1) stripes."""

    def __init__(self, size=16, count=16, empty=None):
        self.size, self.count, self.empty = size, count, empty
        self.info = DatasetInfo(labels={"orientation": LabelInfo("multiclass", ["horizontal", "vertical"])}, image_size=(size, size))

    def split(self, name):
        items = []
        for i in range(0 if name == self.empty else self.count):
            label = i % 2
            line = (torch.arange(self.size) % 4 < 2).float()
            image = line.view(-1, 1).expand(self.size, self.size) if label == 0 else line.view(1, -1).expand(self.size, self.size)
            items.append({"image": image.expand(3, -1, -1).clone(), "labels": {"orientation": torch.tensor(label)}, "index": i})
        return items


class TinyConv(Backbone):
    """A 4×4-patch convolution: the smallest backbone with both paths."""

    def __init__(self):
        super().__init__()
        self.num_features, self.in_chans, self.patch_size = 8, 3, 4
        self.embed = nn.Conv2d(3, 8, 4, stride=4)

    def forward_pooled(self, x):
        return self.embed(x).mean(dim=(2, 3))

    def forward_masked(self, x, mask):
        tokens = self.embed(x).flatten(2).transpose(1, 2)
        return tokens * (~mask).unsqueeze(-1)


class PatchMean(SSLObjective):
    """Predict each masked patch's mean gray level."""

    def __init__(self):
        super().__init__()
        self.modalities = ["gray"]

    def attach(self, backbone, channels, image_size):
        self.head = nn.Linear(backbone.num_features, 1)

    def forward(self, backbone, inputs):
        gray = inputs["gray"]
        count = (gray.shape[-1] // 4) ** 2
        mask = torch.rand(gray.shape[0], count) < 0.5
        prediction = self.head(backbone.forward_masked(gray.expand(-1, 3, -1, -1), mask)).squeeze(-1)
        target = nn.functional.avg_pool2d(gray, 4).flatten(1)
        loss = (((prediction - target) ** 2) * mask).sum() / mask.sum().clamp_min(1)
        return SSLOutput(losses={"rec_gray": loss}, mask=mask)


class NanTask(Task):
    label, headline = "orientation", "acc"

    def bind(self, info):
        return 2

    def loss(self, logits, target):
        return logits.sum() * float("nan")

    def scores(self, logits):
        return logits

    def metrics(self, logits, target, extras):
        return {"acc": 0.0}


class ScriptedTask(Task):
    """Reports ``score_gap@g`` from a script, one value per evaluation: NaN first, then values
    where lower is better (a fairness gap)."""

    label, headline = "orientation", "score_gap@g"
    script = (math.nan, 0.3, 0.1, 0.2)

    def __init__(self):
        self.calls = 0

    def bind(self, info):
        return 2

    def loss(self, logits, target):
        return nn.functional.cross_entropy(logits, target)

    def scores(self, logits):
        return logits.softmax(-1)

    def metrics(self, logits, target, extras):
        value = self.script[min(self.calls, len(self.script) - 1)]
        self.calls += 1
        return {"score_gap@g": value}

    def metric_names(self, info):
        return ["score_gap@g"]


class EveryKind:
    @hookimpl
    def register_datasets(self, register):
        register("stripes", Stripes, StripesParams)

    @hookimpl
    def register_backbones(self, register):
        register("tiny-conv", TinyConv)

    @hookimpl
    def register_ssl_objectives(self, register):
        register("patch-mean", PatchMean)

    @hookimpl
    def register_tasks(self, register):
        register("nan-task", NanTask)
        register("scripted-task", ScriptedTask)

    @hookimpl
    def register_descriptors(self, register):
        from lssat_descriptors import Gray

        register("gray2", Gray)

    @hookimpl
    def register_commands(self, subparsers):
        hello = subparsers.add_parser("hello")
        hello.add_argument("--name", default="world")
        hello.set_defaults(handler=lambda args: print(f"hello {args.name}"))


@pytest.fixture
def every_kind():
    manager = shipped_plugin_manager()  # never the other plugins the user installed
    manager.add_plugin(EveryKind(), name="every-kind", distribution="lssat-plugin-every-kind")
    reset_plugin_manager(manager)
    yield manager


def plugin_spec():
    return {
        "name": "plugin-run",
        "data": {"name": "stripes", "params": {"size": 16, "count": 16}},
        "task": {"name": "classification", "params": {"label": "orientation"}},
        "backbone": {"name": "tiny-conv"},
        "ssl": {"name": "patch-mean"},
        "classify": "gray2",
        "train": {"epochs": 4, "batch_size": 8, "lr": 0.05, "cpu": True, "augment": {"flip": False}},
    }


