"""Builtin backbones: every timm model, by its timm name.

``lssat list backbone 'vit_*'`` lists them, each also with its pretrained tags
(``vit_base_patch16_224.augreg2_in21k_ft_in1k``) as ``timm.list_models(pretrained=True)`` does.
Weights come from a local file (``weights:``) or, for ``pretrained:``, from the Hugging Face cache
through timm (downloaded once when the machine is online); both are loaded strictly.
"""

from lssat_framework import hookimpl

from .backbone import TimmBackbone, make_factory
from .params import TimmParams

__all__ = ["TimmBackbone", "TimmParams"]


@hookimpl
def register_backbones(register):
    import timm

    for name in [*timm.list_models(), *timm.list_models(pretrained=True)]:
        register(name, make_factory(name), TimmParams, "timm model")
