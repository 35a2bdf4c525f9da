"""``torch.compile`` for a descriptor's per-pixel work when its params ask for it, with one clear
error where this machine cannot compile."""

from __future__ import annotations

import functools

import torch

from lssat_framework.errors import ComponentError


def compiled(fn, compile: bool, owner: str):
    """``fn`` through ``torch.compile`` when asked, else ``fn`` itself.

    Shapes stay static (one specialised loop per image shape, no dynamic-shape fallback), and
    Triton is told not to fuse a multiply and an add into one instruction: that would change the
    float64 rounding the LBP/LTP codes depend on (the C++ backend never fuses them). A machine that cannot compile gets one clear
    error instead of the compiler's traceback.
    """
    if not compile:
        return fn
    fast = torch.compile(fn, dynamic=False, options={"emulate_precision_casts": True})

    @functools.wraps(fn)
    def call(*args):
        try:
            return fast(*args)
        except torch._dynamo.exc.BackendCompilerFailed as error:
            raise ComponentError.cannot_compile(f"{owner} with compile: true", "set compile: false in the descriptor's params", error) from error

    return call
