"""Builtin SSL objectives: ``mae`` (masked autoencoding of any modality) and ``none``."""

from lssat_framework import hookimpl

from .objectives import MAEParams, MaskedAutoencoder, NoObjective

__all__ = ["MaskedAutoencoder", "MAEParams", "NoObjective"]


@hookimpl
def register_ssl_objectives(register):
    register("mae", MaskedAutoencoder, MAEParams, "masked autoencoder; loss on masked patches only")
    register("none", NoObjective, description="no auxiliary task: the plain supervised baseline")
