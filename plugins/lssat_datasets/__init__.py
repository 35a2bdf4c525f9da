"""Builtin datasets: the embedded synthetic-faces and lfw-sbi, the users' local CelebA, AffectNet,
FaceForensics++, DFD, Celeb-DF v2, DFDC and DeepfakeBench's dataset JSON in their official
layouts, and generic folders and CSVs; the face detectors and landmarkers of ``lssat prepare``.

The readers are imported when first used, not with the package: components are registered by
reference (``"lssat_datasets.celeba:CelebA"``) with their params models from :mod:`.params`, so
``lssat --help``, ``validate`` and ``list`` import neither torch nor numpy, and ``lssat prepare``'s
worker processes import this package without the readers.
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
    from .commands import add_commands

    add_commands(subparsers)


@hookimpl
def register_face_detectors(register):
    from .params import DlibCnnParams, DlibHogParams, LbpCascadeParams

    register("lbp-cascade", "lssat_datasets.faces:LbpCascade", LbpCascadeParams, "scikit-image's LBP frontal-face cascade; needs nothing more (default)")
    register("dlib-hog", "lssat_datasets.faces:DlibHog", DlibHogParams, "dlib's HOG frontal-face detector, DeepfakeBench's; pip install 'lssat-framework[faces]'")
    register("dlib-cnn", "lssat_datasets.faces:DlibCnn", DlibCnnParams, "dlib's CNN face detector (mmod), turned faces too; pip install 'lssat-framework[faces]'")


@hookimpl
def register_face_landmarkers(register):
    register("dlib-68", "lssat_datasets.landmarks:Dlib68", None, "dlib's 68 iBUG points, DeepfakeBench's five of them; pip install 'lssat-framework[faces]'")


@hookimpl
def register_face_readers(register):
    register("prepared-faces", "lssat_datasets.reader:PreparedFaces", None, "videos and photos read as lssat prepare reads videos: its sampling and face path")


@hookimpl
def register_datasets(register):
    from . import params as p

    register("synthetic-faces", "lssat_datasets.synthetic:SyntheticFaces", p.SyntheticFacesParams, "procedural faces labelled for all three tasks; no download")
    register("lfw-sbi", "lssat_datasets.lfw_sbi:LfwSbi", p.LfwSbiParams, "LFW faces shipped with scikit-image and self-blended fakes; no download")
    register("celeba", "lssat_datasets.celeba:CelebA", p.CelebAParams, "CelebA attributes, official layout or the CSV copy")
    register("affectnet", "lssat_datasets.affectnet:AffectNet", p.AffectNetParams, "AffectNet expressions (7 or 8), distributed layouts or class folders")
    register("ffpp", "lssat_datasets.ffpp:FaceForensics", p.FFppParams, "FaceForensics++ frames with the official split lists")
    register("dfd", "lssat_datasets.ffpp:DeepFakeDetection", p.DFDParams, "DeepFakeDetection (DFD) frames in FaceForensics++'s tree; a test set")
    register("celebdf", "lssat_datasets.celebdf:CelebDF", p.CelebDFParams, "Celeb-DF v2 frames with its official test list")
    register("dfdc", "lssat_datasets.dfdc:DFDC", p.DFDCParams, "DFDC frames: training parts' metadata.json, the public test set's labels.csv")
    register("deepfakebench", "lssat_datasets.deepfakebench:DeepfakeBenchJSON", p.DeepfakeBenchParams, "frames listed in a DeepfakeBench dataset JSON")
    register("image-folder", "lssat_datasets.generic:ImageFolder", p.ImageFolderParams, "any images, one folder per class")
    register("image-csv", "lssat_datasets.generic:ImageCSV", p.ImageCSVParams, "any images listed in a CSV with labels")
