"""Builtin datasets: synthetic-faces (ships with the package)."""

from lssat_framework import hookimpl

from .synthetic import SyntheticFaces, SyntheticFacesParams

__all__ = ["SyntheticFaces", "SyntheticFacesParams"]


@hookimpl
def register_datasets(register):
    register("synthetic-faces", SyntheticFaces, SyntheticFacesParams, "procedural faces labelled for all three tasks; no download")
