"""Builtin SSL objectives: ``mae`` (masked autoencoding of any modality) and ``none``.

Registered by reference: the objectives (and timm's transformer blocks they use) are imported
when a run builds them; validation needs only :mod:`.params`.
"""

from importlib import import_module

from lssat_framework import hookimpl

from .params import MAEParams, NoObjectiveParams

__all__ = ["MaskedAutoencoder", "MAEParams", "NoObjective", "NoObjectiveParams"]


def __getattr__(name):
    if name in ("MaskedAutoencoder", "NoObjective"):
        return getattr(import_module(".objectives", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@hookimpl
def register_ssl_objectives(register):
    register("mae", "lssat_mae.objectives:MaskedAutoencoder", MAEParams, "masked autoencoder; loss on masked patches only")
    register("none", "lssat_mae.objectives:NoObjective", NoObjectiveParams, "no auxiliary task: the plain supervised baseline")
