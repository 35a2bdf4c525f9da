"""A small real sweep for the report's tests, trained once per test session: 2 backbones × 2 seeds
on the synthetic faces (2 epochs of one batch), a cross-dataset test set, and one variant that
fails on purpose with an error that holds markup. Its variants are run folders too."""

from __future__ import annotations

import base64
import copy
import functools
import io
import os
from pathlib import Path

import yaml

from lssat_framework.testing import TINY_SPEC

FAILING = "backbone=vit2__seed=1"
ERROR = "boom <b>not bold</b> & the model exploded"


def sweep_spec() -> dict:
    spec = copy.deepcopy(TINY_SPEC)
    spec["name"] = "mini"
    spec["data"]["params"].update(train=16, val=13, test=8)
    spec["train"].update(epochs=2, max_batches=1)
    spec["evaluate"] = [{"name": "synthetic-faces", "params": {"seed": 7, "test": 8}, "label": "synthetic-seed7"}]
    spec["sweep"] = {"backbone": {"vit1": {"backbone.params.depth": 1}, "vit2": {"backbone.params.depth": 2}}, "seed": [0, 1]}
    return spec


@functools.cache
def trained_sweep(root: str) -> Path:
    """The sweep folder, trained into ``root`` (once per session)."""
    import pytest

    import lssat_framework.train
    from lssat_framework.spec import load_spec
    from lssat_framework.sweep import run_sweep

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    real = lssat_framework.train.train

    def train(resolved, out_dir, resume=False):
        if Path(out_dir).name == FAILING:
            raise RuntimeError(ERROR)
        return real(resolved, out_dir, resume)

    path = Path(root) / "mini.yaml"
    path.write_text(yaml.safe_dump(sweep_spec(), sort_keys=False))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("lssat_framework.train.train", train)
        try:
            run_sweep(load_spec(path), out=Path(root) / "sweep")
        except Exception:  # the failing variant fails the sweep's status; the others finished
            pass
    return Path(root) / "sweep"


def images(soup) -> list[tuple[str, bytes]]:
    """Every picture of the page: (its mime type, its decoded bytes); each must be a data: URI."""
    found = []
    for tag in soup.find_all("img"):
        source = tag["src"]
        assert source.startswith("data:image/") and ";base64," in source, source[:80]
        mime, data = source[len("data:"):].split(";base64,", 1)
        found.append((mime, base64.b64decode(data, validate=True)))
    return found


def decodes(mime: str, data: bytes) -> bool:
    if mime == "image/svg+xml":
        import xml.etree.ElementTree as ElementTree

        return ElementTree.fromstring(data).tag.endswith("svg")
    from PIL import Image

    with Image.open(io.BytesIO(data)) as picture:
        picture.load()
        return picture.width > 0


def svg_ids(data: bytes, prefix: str) -> set[str]:
    import xml.etree.ElementTree as ElementTree

    return {e.get("id") for e in ElementTree.fromstring(data).iter() if (e.get("id") or "").startswith(prefix)}


def sweep_folder_for(tmp_path_factory) -> Path:
    """The session's trained sweep (see :func:`trained_sweep`)."""
    root = tmp_path_factory.getbasetemp() / "report-sweep"
    root.mkdir(exist_ok=True)
    return trained_sweep(str(root))
