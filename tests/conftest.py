import os

# nothing may reach the network: timm/huggingface must fail fast instead of retrying
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TQDM_DISABLE", "1")

import copy  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from lssat_framework.plugins import reset_plugin_manager  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]

TINY_SPEC = {
    "name": "tiny",
    "seed": 0,
    "data": {"name": "synthetic-faces", "params": {"image_size": 32, "train": 24, "val": 13, "test": 8}},
    "task": {"name": "deepfake"},
    "backbone": {"name": "vit_tiny_patch16_224", "params": {"img_size": 32, "patch_size": 8, "depth": 1, "embed_dim": 32, "num_heads": 2}},
    "descriptors": {"ldp": {"name": "ldp", "params": {"k": 3}}},
    "ssl": {"name": "mae", "params": {"mask": "rgb", "reconstruct": ["ldp"], "mask_ratio": 0.75, "decoder_dim": 32, "decoder_depth": 1, "decoder_heads": 2}},
    "classify": "rgb",
    "loss": {"task": 0.1, "ssl": 0.9},
    "train": {"epochs": 1, "batch_size": 8, "lr": 1.0e-3, "precision": "no", "cpu": True},
}


@pytest.fixture
def tiny_spec():
    """A spec small enough to train in seconds on a CPU."""
    return copy.deepcopy(TINY_SPEC)


@pytest.fixture(autouse=True)
def _fresh_plugin_manager(monkeypatch):
    """Each test starts from the installed plugins, with no plugin environment variables."""
    for name in ("LSSAT_DISABLE_PLUGINS", "LSSAT_STRICT_PLUGINS", "LSSAT_DISABLE_PLUGIN_AUTOLOAD"):
        monkeypatch.delenv(name, raising=False)
    reset_plugin_manager()
    yield
    reset_plugin_manager()


def make_plugin_distribution(root: Path, dist_name: str, module: str, source: str, entry_name: str | None = None, version: str = "1.0") -> Path:
    """Write an installed-looking distribution (module + .dist-info with an entry point) under ``root``.

    Putting ``root`` on ``sys.path`` (or PYTHONPATH) makes ``importlib.metadata`` find it exactly as
    it finds a pip-installed plugin.
    """
    root.mkdir(parents=True, exist_ok=True)
    (root / f"{module}.py").write_text(source)
    info = root / f"{dist_name.replace('-', '_')}-{version}.dist-info"
    info.mkdir(exist_ok=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist_name}\nVersion: {version}\n")
    (info / "entry_points.txt").write_text(f"[lssat]\n{entry_name or module} = {module}\n")
    return root


@pytest.fixture
def plugin_path(tmp_path, monkeypatch):
    """A directory on sys.path for throwaway plugin distributions."""
    path = tmp_path / "site"
    path.mkdir()
    monkeypatch.syspath_prepend(str(path))
    yield path
    for name in list(sys.modules):
        if name.startswith("lssat_plugin_"):
            del sys.modules[name]
