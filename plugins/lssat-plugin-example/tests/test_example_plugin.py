"""The example plugin, tested the way a plugin author tests one: with the framework's fixtures."""

import numpy as np
import pytest
import torch

import lssat_framework as lssat
from lssat_framework.testing import tiny_spec, train_tiny  # noqa: F401,F811 - a fixture and a helper


def test_the_plugin_is_discovered_with_its_three_components():
    info = {p.name: p for p in lssat.plugins.get_plugin_manager().report()}["example"]
    assert info.status == "ok" and info.distribution == "lssat-plugin-example"
    assert info.components == {"descriptor": ["cslbp"], "backbone": ["small-convnet"], "task": ["one-attribute"]}


def test_cslbp_compares_opposite_neighbours_by_hand():
    # east 60 vs west 40 -> 1; NE ~35.9 vs SW ~64.1 -> 0; north 20 vs south 80 -> 0; NW ~21.7 vs SE ~78.3 -> 0
    image = torch.tensor([[10, 20, 30], [40, 50, 60], [70, 80, 90]], dtype=torch.float32).div(255)[None, None]
    assert lssat.create("descriptor", "cslbp").codes(image)[0, 0, 1, 1].item() == 0b0001
    flipped = image.flip(-1).flip(-2)  # every pair reversed: all differences change sign
    assert lssat.create("descriptor", "cslbp").codes(flipped)[0, 0, 1, 1].item() == 0b1110
    with pytest.raises(lssat.LssatError, match="even number of points"):
        lssat.create("descriptor", "cslbp", points=7)


def test_the_backbone_gives_tokens_on_its_grid():
    backbone = lssat.create("backbone", "small-convnet", width=8)
    tokens = backbone.forward_masked(torch.rand(2, 3, 64, 64), torch.zeros(2, 16, dtype=torch.bool))
    assert tokens.shape == (2, 16, 64)


def test_all_three_train_together(tiny_spec, tmp_path):  # noqa: F811 - the imported fixture
    tiny_spec["backbone"] = {"name": "small-convnet", "params": {"width": 8}}
    tiny_spec["data"]["params"]["image_size"] = 32
    tiny_spec["descriptors"] = {"cs": {"name": "cslbp"}}
    tiny_spec["ssl"]["params"]["reconstruct"] = ["cs"]
    tiny_spec["task"] = {"name": "one-attribute", "params": {"attribute": "Smiling"}}
    summary = train_tiny(tiny_spec, tmp_path)
    assert summary["backbone"] == "small-convnet" and summary["task"] == "one-attribute"
    assert np.isfinite(summary["final"]["acc"])


def test_lssat_plugins_lists_it():
    import json
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-m", "lssat_framework", "plugins", "--json"], capture_output=True, text=True, check=True)
    plugins = {p["name"]: p for p in json.loads(out.stdout)}
    assert plugins["example"]["distribution"] == "lssat-plugin-example" and plugins["example"]["status"] == "ok"
