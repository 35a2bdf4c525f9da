"""Builtin texture descriptors: rgb, gray, lbp, ltp, ldp, hog.

Every descriptor is a parameter-free ``nn.Module``. Input: a float tensor ``B×3×H×W`` (RGB) or
``B×1×H×W`` (gray) with values in [0, 1], on any device. Output: ``B×C×H×W`` in [0, 1], same H×W.

The modules: :mod:`.gray` (the input check and the gray levels), :mod:`.compilation` (the optional
``torch.compile``), :mod:`.identity` (RGB, Gray), :mod:`.circular` (the exact circular sampling
LBP and LTP share), :mod:`.lbp`, :mod:`.ltp`, :mod:`.directional` (LDP, HOG) and :mod:`.params`.

The descriptors are registered by reference and imported when a run builds them: validating a
spec and listing the descriptors need their params (:mod:`.params`, pydantic only), not torch.
``from lssat_descriptors import LBP`` still works: the classes are imported on first access.

To add a descriptor of your own, subclass one of these classes in your plugin and register it
under a new name; see ``docs/plugins.md``.
"""

from importlib import import_module

from lssat_framework import hookimpl

from .params import HOGParams, LBPParams, LDPParams, LTPParams

#: exported descriptor class -> the module that defines it
_EXPORTS = {"RGB": "identity", "Gray": "identity", "LBP": "lbp", "LTP": "ltp", "LDP": "directional", "HOG": "directional"}

__all__ = [*_EXPORTS, "LBPParams", "LTPParams", "LDPParams", "HOGParams"]


def __getattr__(name):
    if name in _EXPORTS:
        return getattr(import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@hookimpl
def register_descriptors(register):
    register("rgb", "lssat_descriptors.identity:RGB", description="the RGB image itself (3 channels)")
    register("gray", "lssat_descriptors.identity:Gray", description="gray image, scikit-image rgb2gray weights (1 channel)")
    register("lbp", "lssat_descriptors.lbp:LBP", LBPParams, "local binary patterns, codes identical to scikit-image (1 channel per scale)")
    register("ltp", "lssat_descriptors.ltp:LTP", LTPParams, "local ternary patterns, Tan & Triggs 2010 (2 channels per scale)")
    register("ldp", "lssat_descriptors.directional:LDP", LDPParams, "local directional patterns, Kirsch masks, Jabid et al. 2010 (1 channel per scale)")
    register("hog", "lssat_descriptors.directional:HOG", HOGParams, "MaskFeat HOG cell histograms (bins × colour channels)")
