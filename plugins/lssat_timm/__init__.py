"""Builtin backbones: every timm model, by its timm name.

``lssat list backbone 'vit_*'`` lists them. Weights come only from a local file (``weights:``),
loaded strictly; nothing is ever downloaded.
"""

from lssat_framework import hookimpl

from .backbone import TimmBackbone, make_factory
from .params import TimmParams

__all__ = ["TimmBackbone", "TimmParams"]


@hookimpl
def register_backbones(register):
    import timm

    for name in timm.list_models():
        register(name, make_factory(name), TimmParams, "timm model")
