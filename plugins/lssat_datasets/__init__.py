"""Builtin datasets: the embedded synthetic-faces and lfw-sbi, the users' local CelebA,
AffectNet and FaceForensics++ in their official layouts, and generic folders and CSVs."""

from lssat_framework import hookimpl

from .affectnet import AffectNet, AffectNetParams
from .celeba import CelebA, CelebAParams
from .ffpp import FaceForensics, FFppParams
from .files import FileSource, ImageFiles, Sample, load_image
from .generic import ImageCSV, ImageCSVParams, ImageFolder, ImageFolderParams
from .lfw_sbi import LfwSbi, LfwSbiParams
from .synthetic import SyntheticFaces, SyntheticFacesParams

__all__ = ["SyntheticFaces", "LfwSbi", "CelebA", "AffectNet", "FaceForensics", "ImageFolder", "ImageCSV", "FileSource", "ImageFiles", "Sample", "load_image"]


@hookimpl
def register_commands(subparsers):
    from .prepare import add_commands

    add_commands(subparsers)


@hookimpl
def register_datasets(register):
    register("synthetic-faces", SyntheticFaces, SyntheticFacesParams, "procedural faces labelled for all three tasks; no download")
    register("lfw-sbi", LfwSbi, LfwSbiParams, "LFW faces shipped with scikit-image and self-blended fakes; no download")
    register("celeba", CelebA, CelebAParams, "CelebA attributes, official layout or the CSV copy")
    register("affectnet", AffectNet, AffectNetParams, "AffectNet expressions (7 or 8), distributed layout or class folders")
    register("ffpp", FaceForensics, FFppParams, "FaceForensics++ frames with the official split lists")
    register("image-folder", ImageFolder, ImageFolderParams, "any images, one folder per class")
    register("image-csv", ImageCSV, ImageCSVParams, "any images listed in a CSV with labels")
