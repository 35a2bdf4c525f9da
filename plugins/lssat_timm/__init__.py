"""Builtin backbones: every timm model, by its timm name.

``lssat list backbone 'vit_*'`` lists them, each also with its pretrained tags
(``vit_base_patch16_224.augreg2_in21k_ft_in1k``) as ``timm.list_models(pretrained=True)`` does.
Weights come from a local file (``weights:``) or, for ``pretrained:``, from the Hugging Face cache
through timm (downloaded once when the machine is online); both are loaded strictly.

The names come from :mod:`.catalogue` (cached per timm installation) and the backbone is
registered by reference, so that listing and validating import neither timm nor torch.
"""

from importlib import import_module

from lssat_framework import hookimpl, lazy

from .catalogue import model_names
from .params import TimmParams

__all__ = ["TimmBackbone", "TimmParams"]


def __getattr__(name):
    if name == "TimmBackbone":
        return import_module(".backbone", __name__).TimmBackbone
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@hookimpl
def register_backbones(register):
    for name in model_names():
        register(name, lazy("lssat_timm.backbone:TimmBackbone", model_name=name), TimmParams, "timm model")
