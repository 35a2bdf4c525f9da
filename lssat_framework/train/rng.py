"""The random generators a resumed run continues: Python's, numpy's, torch's and the GPUs', as
plain values that :mod:`.tensor_tree` saves without pickle (what accelerate keeps in
``random_states_<process>.pkl``)."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .tensor_tree import DamagedStateError


def rng_state() -> dict[str, Any]:
    state = {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state()}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: Any, source: Path) -> None:
    """Restore what :func:`rng_state` gave; a state of the wrong shape is a clear error naming ``source``."""
    try:
        random.setstate(state["python"])
        np.random.set_state(state["numpy"])
        torch.set_rng_state(state["torch"])
        if "cuda" in state and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(state["cuda"])
    except (KeyError, TypeError, ValueError, RuntimeError, IndexError) as error:
        raise DamagedStateError(f"{source}: not the random generators' state ({type(error).__name__}: {str(error)[:200]})") from None
