"""``lssat predict IMAGES --checkpoint RUN``: score image files with a finished run's model."""

from __future__ import annotations

from .options import add_debug_option


def add_parser(sub) -> None:
    parser = sub.add_parser("predict", help="score image files with a finished run's model")
    parser.add_argument("images", nargs="+", help="image files or folders")
    parser.add_argument("--checkpoint", required=True, help="a finished run directory")
    parser.add_argument("--out", default="predictions.csv", help="CSV to write (default predictions.csv)")
    add_debug_option(parser)
    parser.set_defaults(handler=command)


def command(args) -> int:
    from ..train import predict

    count = predict(args.checkpoint, args.images, args.out)
    print(f"{count} images scored: {args.out}")
    return 0
