"""The ``lssat prepare`` parser. ``lssat --help`` builds every sub-parser, so this module imports
the standard library and :mod:`.params` only; the extraction (:mod:`.prepare`: numpy, PyAV, the
detectors) is imported when the command runs."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import get_args

from .params import METHODS, PREPARE_DEFAULTS, PROFILES, Compression, Layout, Sampling

DATASETS = {
    "ffpp": "FaceForensics++ (original_sequences/youtube, manipulated_sequences/<Method>)",
    "dfd": "DeepFakeDetection in FaceForensics++'s tree (original_sequences/actors, manipulated_sequences/DeepFakeDetection)",
    "celebdf": "Celeb-DF v2 (Celeb-real, YouTube-real, Celeb-synthesis)",
    "dfdc": "DFDC (dfdc_train_part_<k>/ and the public test set's test/videos/)",
}


def at_least_one(text: str) -> int:
    """An argparse type: a whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def a_rate(text: str) -> float:
    """An argparse type: a share between 0 and 1."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number between 0 and 1, got {text!r}") from None
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {value}")
    return value


def add_face_options(parser) -> None:
    """How frames are picked and faces found; each default None, so that a profile can set it."""
    d = PREPARE_DEFAULTS
    parser.add_argument("--profile", choices=sorted(PROFILES), help="a field's whole preparation: deepfakebench sets dlib-hog, --align with dlib-68, "
                        "32 frames at np.linspace, 256 px and DeepfakeBench's folders (flags given beside it win)")
    parser.add_argument("--frames", type=at_least_one, help=f"frames per video (default {d['frames']}; DeepfakeBench takes 32)")
    parser.add_argument("--sampling", choices=get_args(Sampling), help="spans: the frames nearest the centres of equal time spans (default); linspace: DeepfakeBench's np.linspace, first and last frame included")
    parser.add_argument("--size", type=at_least_one, help=f"side of the saved face crops (default {d['size']})")
    parser.add_argument("--layout", choices=get_args(Layout), help="lssat: <comp>/images/<video>/0000.png (default); deepfakebench: <comp>/frames/<video>/<frame index>.png")
    parser.add_argument("--workers", type=at_least_one, default=None, help="processes, each with its own detector (default: the CPU count)")
    parser.add_argument("--detector", help=f"face detector (default {d['detector']}; dlib-hog and dlib-cnn with the faces extra)")
    parser.add_argument("--detector-param", action="append", default=[], metavar="KEY=VALUE", help="a param of the detector, e.g. detect_height=480 (repeatable; values are YAML)")
    parser.add_argument("--align", action="store_true", default=None, help="warp the five key points onto the ArcFace template at DeepfakeBench's scale 1.3 (needs a landmarker)")
    parser.add_argument("--landmarker", help=f"face landmarker for --align (default {d['landmarker']}, with the faces extra)")
    parser.add_argument("--landmarker-param", action="append", default=[], metavar="KEY=VALUE", help="a param of the landmarker (repeatable; values are YAML)")


def add_commands(subparsers) -> None:
    prepare_parser = subparsers.add_parser("prepare", help="prepare a dataset on disk (extract face frames from its videos)")
    which = prepare_parser.add_subparsers(dest="dataset", metavar="DATASET", required=True)
    for name, description in DATASETS.items():
        parser = which.add_parser(name, help=f"extract face frames from {description}")
        parser.add_argument("root", type=Path)
        add_face_options(parser)
        parser.add_argument("--min-face-rate", type=a_rate, default=0.0, help="drop videos with a face in fewer of their frames than this share (default 0)")
        if name in ("ffpp", "dfd"):
            parser.add_argument("--compression", default="c23", choices=get_args(Compression))
        if name == "ffpp":
            parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=list(METHODS))
        if name in ("celebdf", "dfdc"):
            parser.add_argument("--test-only", action="store_true", help="only the videos of the official test list")
        parser.add_argument("--debug", action="store_true", default=argparse.SUPPRESS)
        parser.set_defaults(handler=run_prepare)


def run_prepare(args) -> int:
    """The handler of ``lssat prepare``: imports the extraction now, not when the parser is built."""
    from .prepare import run_prepare as run

    return run(args)
