"""``lssat predict RUN INPUT...``: is this video fake? A finished run's answers for videos and
photos, faces found as the run's training frames were prepared. ``lssat predict IMAGES
--checkpoint RUN`` scores whole images as they are (face crops already)."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..errors import LssatError
from .options import add_debug_option

#: the preparation settings a flag overrides -> its help
SETTING_FLAGS = {
    "profile": "a preparation profile of lssat prepare (e.g. deepfakebench), over the run's record",
    "detector": "the face detector (lssat list face_detector)",
    "landmarker": "the landmarker of aligned crops (lssat list face_landmarker)",
    "sampling": "how frames are picked: spans (by time) or linspace (DeepfakeBench's)",
}


def add_parser(sub) -> None:
    parser = sub.add_parser("predict", help="is this video fake? score videos and photos with a finished run's model",
                            description=__doc__.split("\n\n")[0])
    parser.add_argument("inputs", nargs="+", metavar="RUN INPUT", help="the run folder, then videos, images or folders of them")
    parser.add_argument("--checkpoint", help="a run folder: score the inputs as whole images, no face found (as before)")
    parser.add_argument("--out", help="output folder (default predictions/); with --checkpoint, the CSV (default predictions.csv)")
    parser.add_argument("--frames", type=int, help="frames sampled per video, as lssat prepare samples them (default: the run's)")
    parser.add_argument("--size", type=int, help="the side of the face crops (default: the run's)")
    parser.add_argument("--scale", type=float, help="the crop's side over the face's (default: the run's)")
    parser.add_argument("--align", action=argparse.BooleanOptionalAction, default=None, help="align faces onto the template (default: the run's)")
    for name, text in SETTING_FLAGS.items():
        parser.add_argument(f"--{name}", help=f"{text} (default: the run's)")
    parser.add_argument("--threshold", type=float, help="the score at which a video is called fake (default: the run's, 0.5)")
    parser.add_argument("--all-faces", action="store_true", help="answer for every face track, not only the largest")
    parser.add_argument("--json", action="store_true", help="print every answer as JSON on stdout")
    parser.add_argument("--reader", help="the face reader (lssat list face_reader; default: the only one installed)")
    add_debug_option(parser)
    parser.set_defaults(handler=command)


def command(args) -> int:
    from ..predict import PredictOptions, predict_files, predict_whole_images

    if args.checkpoint is not None:
        out = args.out or "predictions.csv"
        count = predict_whole_images(args.checkpoint, args.inputs, out)
        print(f"{count} images scored: {out}")
        return 0
    if len(args.inputs) < 2:
        raise LssatError("predict: give the run folder, then at least one video, image or folder: lssat predict RUN INPUT...")
    for name, value in (("--frames", args.frames), ("--size", args.size), ("--scale", args.scale)):
        if value is not None and value <= 0:
            raise LssatError(f"predict: {name} must be positive, got {value}")
    overrides = {key: getattr(args, key) for key in ("frames", "size", "scale", "align", *SETTING_FLAGS)}
    options = PredictOptions(args.inputs[0], args.inputs[1:], Path(args.out or "predictions"), overrides,
                             args.threshold, args.all_faces, args.json, args.reader)
    return predict_files(options)
