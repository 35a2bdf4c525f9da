"""Builtin texture descriptors: rgb, gray, lbp, ltp, ldp, hog.

To add a descriptor of your own, subclass one of these classes in your plugin and register it
under a new name; see ``docs/plugins.md``.
"""

from lssat_framework import hookimpl

from .descriptors import LBP, LTP, RGB, Gray, LBPParams, LTPParams
from .directional import HOG, LDP, HOGParams, LDPParams

__all__ = ["RGB", "Gray", "LBP", "LTP", "LDP", "HOG", "LBPParams", "LTPParams", "LDPParams", "HOGParams"]


@hookimpl
def register_descriptors(register):
    register("rgb", RGB, description="the RGB image itself (3 channels)")
    register("gray", Gray, description="gray image, scikit-image rgb2gray weights (1 channel)")
    register("lbp", LBP, LBPParams, "local binary patterns, codes identical to scikit-image (1 channel per scale)")
    register("ltp", LTP, LTPParams, "local ternary patterns, Tan & Triggs 2010 (2 channels per scale)")
    register("ldp", LDP, LDPParams, "local directional patterns, Kirsch masks, Jabid et al. 2010 (1 channel per scale)")
    register("hog", HOG, HOGParams, "MaskFeat HOG cell histograms (bins × colour channels)")
