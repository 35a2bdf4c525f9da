"""An example lssat-framework plugin, one component of three kinds.

- descriptor ``cslbp``: centre-symmetric LBP, a subclass of the builtin LBP;
- backbone ``small-convnet``: a four-stage CNN written from scratch;
- task ``one-attribute``: binary classification of one attribute of a multi-label dataset.
"""

from lssat_framework import hookimpl

from .backbone import SmallConvNet, SmallConvNetParams
from .descriptor import CentreSymmetricLBP, CSLBPParams
from .task import OneAttribute, OneAttributeParams

__all__ = ["CentreSymmetricLBP", "SmallConvNet", "OneAttribute"]


@hookimpl
def register_descriptors(register):
    register("cslbp", CentreSymmetricLBP, CSLBPParams, "centre-symmetric LBP (P/2 bits), Heikkilä et al. 2009")


@hookimpl
def register_backbones(register):
    register("small-convnet", SmallConvNet, SmallConvNetParams, "a four-stage CNN, stride 16")


@hookimpl
def register_tasks(register):
    register("one-attribute", OneAttribute, OneAttributeParams, "binary classification of one attribute")
