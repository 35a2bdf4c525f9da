"""Builtin datasets: the embedded synthetic-faces and lfw-sbi, the users' local CelebA, AffectNet,
FaceForensics++, DFD, Celeb-DF v2, DFDC and DeepfakeBench's dataset JSON in their official
layouts, and generic folders and CSVs; the face detectors of ``lssat prepare``.

The readers are imported when first used, not with the package: ``lssat prepare``'s worker
processes import this package and need neither torch nor the readers.
"""

from importlib import import_module

from lssat_framework import hookimpl

#: exported name -> the module that defines it
_EXPORTS = {
    "SyntheticFaces": "synthetic", "LfwSbi": "lfw_sbi", "CelebA": "celeba", "AffectNet": "affectnet",
    "FaceForensics": "ffpp", "DeepFakeDetection": "ffpp", "CelebDF": "celebdf", "DFDC": "dfdc",
    "DeepfakeBenchJSON": "deepfakebench", "ImageFolder": "generic", "ImageCSV": "generic",
    "FileSource": "files", "ImageFiles": "files", "Sample": "files", "load_image": "files",
}

__all__ = list(_EXPORTS)


def __getattr__(name):
    if name in _EXPORTS:
        return getattr(import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@hookimpl
def register_commands(subparsers):
    from .prepare import add_commands

    add_commands(subparsers)


@hookimpl
def register_face_detectors(register):
    from .faces import register_builtin_detectors

    register_builtin_detectors(register)


@hookimpl
def register_datasets(register):
    from .affectnet import AffectNet, AffectNetParams
    from .celeba import CelebA, CelebAParams
    from .celebdf import CelebDF, CelebDFParams
    from .deepfakebench import DeepfakeBenchJSON, DeepfakeBenchParams
    from .dfdc import DFDC, DFDCParams
    from .ffpp import DeepFakeDetection, DFDParams, FaceForensics, FFppParams
    from .generic import ImageCSV, ImageCSVParams, ImageFolder, ImageFolderParams
    from .lfw_sbi import LfwSbi, LfwSbiParams
    from .synthetic import SyntheticFaces, SyntheticFacesParams

    register("synthetic-faces", SyntheticFaces, SyntheticFacesParams, "procedural faces labelled for all three tasks; no download")
    register("lfw-sbi", LfwSbi, LfwSbiParams, "LFW faces shipped with scikit-image and self-blended fakes; no download")
    register("celeba", CelebA, CelebAParams, "CelebA attributes, official layout or the CSV copy")
    register("affectnet", AffectNet, AffectNetParams, "AffectNet expressions (7 or 8), distributed layouts or class folders")
    register("ffpp", FaceForensics, FFppParams, "FaceForensics++ frames with the official split lists")
    register("dfd", DeepFakeDetection, DFDParams, "DeepFakeDetection (DFD) frames in FaceForensics++'s tree; a test set")
    register("celebdf", CelebDF, CelebDFParams, "Celeb-DF v2 frames with its official test list")
    register("dfdc", DFDC, DFDCParams, "DFDC frames: training parts' metadata.json, the public test set's labels.csv")
    register("deepfakebench", DeepfakeBenchJSON, DeepfakeBenchParams, "frames listed in a DeepfakeBench dataset JSON")
    register("image-folder", ImageFolder, ImageFolderParams, "any images, one folder per class")
    register("image-csv", ImageCSV, ImageCSVParams, "any images listed in a CSV with labels")
