"""An example lssat-framework plugin, one component of three kinds.

- descriptor ``cslbp``: centre-symmetric LBP, a subclass of the builtin LBP;
- backbone ``small-convnet``: a four-stage CNN written from scratch;
- task ``one-attribute``: binary classification of one attribute of a multi-label dataset.

Each is registered lazily: by a ``"module:Class"`` reference, imported when a run builds it, with
its params model from the light :mod:`.params`. ``lssat validate`` and ``lssat list`` then never
import torch for this plugin.
"""

from lssat_framework import hookimpl

from .params import CSLBPParams, OneAttributeParams, SmallConvNetParams


@hookimpl
def register_descriptors(register):
    register("cslbp", "lssat_plugin_example.descriptor:CentreSymmetricLBP", CSLBPParams, "centre-symmetric LBP (P/2 bits), Heikkilä et al. 2009")


@hookimpl
def register_backbones(register):
    register("small-convnet", "lssat_plugin_example.backbone:SmallConvNet", SmallConvNetParams, "a four-stage CNN, stride 16")


@hookimpl
def register_tasks(register):
    register("one-attribute", "lssat_plugin_example.task:OneAttribute", OneAttributeParams, "binary classification of one attribute")
