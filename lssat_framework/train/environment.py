"""What a run ran on, recorded when it starts (``environment.json``): the versions of Python,
torch, timm, accelerate and the framework, the devices and processes, the framework's git commit
when it is installed from a checkout, and the time. The plugins' versions are in ``plugins.json``.
A report (:mod:`lssat_framework.report`) shows it beside the results."""

from __future__ import annotations

import datetime
import importlib.metadata
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any

ENVIRONMENT_FILE = "environment.json"
PACKAGES = ("torch", "torchvision", "timm", "accelerate", "lssat-framework")


def _version(distribution: str) -> str | None:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


def framework_commit() -> dict[str, Any] | None:
    """The commit of the git checkout the framework runs from, and whether files there differ from
    it; None where it is not a checkout (an installed wheel) or git is missing."""
    source = Path(__file__).resolve().parents[2]
    if not (source / ".git").exists():
        return None
    try:
        def git(*args: str) -> str:
            return subprocess.run(["git", "-C", str(source), *args], capture_output=True, text=True, timeout=10, check=True).stdout.strip()

        return {"commit": git("rev-parse", "HEAD"), "modified": bool(git("status", "--porcelain", "--untracked-files=no"))}
    except (OSError, subprocess.SubprocessError):
        return None


def devices(accelerator) -> dict[str, Any]:
    import torch

    device = accelerator.device
    found: dict[str, Any] = {"device": str(device), "processes": accelerator.num_processes, "precision": accelerator.mixed_precision}
    if device.type == "cuda":
        found["gpu"] = torch.cuda.get_device_name(device)
        found["cuda"] = torch.version.cuda
    else:
        found["cpu"] = platform.processor() or platform.machine()
    found["threads"] = torch.get_num_threads()
    return found


def environment(accelerator) -> dict[str, Any]:
    """The record of ``environment.json``."""
    import torch

    return {
        "started": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "host": platform.node(),
        "packages": {name: _version(name) for name in PACKAGES} | {"torch": torch.__version__},  # with its build (+cu130)
        "devices": devices(accelerator),
        "git": framework_commit(),
    }
