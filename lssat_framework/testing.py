"""Helpers for testing plugins against the framework (import them in your plugin's tests).

``tiny_spec`` is a pytest fixture: a spec that trains in seconds on a CPU (synthetic faces at
32 px, a one-block ViT, an MAE that masks RGB and reconstructs LDP). Change the sections your
plugin provides and train it with ``train_tiny``::

    from lssat_framework.testing import tiny_spec, train_tiny

    def test_my_descriptor_trains(tiny_spec, tmp_path):
        tiny_spec["descriptors"] = {"mine": {"name": "my-descriptor"}}
        tiny_spec["ssl"]["params"]["reconstruct"] = ["mine"]
        summary = train_tiny(tiny_spec, tmp_path)
        assert summary["final"]["count"] == 13
"""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any

import pytest

TINY_SPEC: dict[str, Any] = {
    "name": "tiny",
    "seed": 0,
    "data": {"name": "synthetic-faces", "params": {"image_size": 32, "train": 24, "val": 13, "test": 8}},
    "task": {"name": "deepfake"},
    "backbone": {"name": "vit_tiny_patch16_224", "params": {"img_size": 32, "patch_size": 8, "depth": 1, "embed_dim": 32, "num_heads": 2}},
    "descriptors": {"ldp": {"name": "ldp", "params": {"k": 3}}},
    "ssl": {
        "name": "mae",
        "params": {"mask": "rgb", "reconstruct": ["ldp"], "mask_ratio": 0.75, "decoder_dim": 32, "decoder_depth": 1, "decoder_heads": 2},
    },
    "classify": "rgb",
    "loss": {"task": 0.1, "ssl": 0.9},
    "train": {"epochs": 1, "batch_size": 8, "lr": 1.0e-3, "precision": "no", "cpu": True},
}


@pytest.fixture
def tiny_spec() -> dict[str, Any]:
    """A fresh copy of :data:`TINY_SPEC` for each test."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    return copy.deepcopy(TINY_SPEC)


def train_tiny(spec: dict[str, Any], directory: str | Path, manager=None) -> dict[str, Any]:
    """Validate ``spec`` (against ``manager``, default: the installed plugins) and train it in
    ``directory/run``; returns the run's summary."""
    from .spec.validation import validate_spec
    from .train import train

    return train(validate_spec(spec, manager=manager), Path(directory) / "run")
