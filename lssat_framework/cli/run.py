"""``lssat run SPEC`` (and ``lssat-run SPEC``): train and evaluate one run, or a sweep's variants in turn."""

from __future__ import annotations

from pathlib import Path

from .options import add_debug_option, add_spec_options


def add_parser(sub) -> None:
    parser = sub.add_parser("run", help="train and evaluate a spec (or a sweep)")
    add_spec_options(parser)
    parser.add_argument("--out", default=None, help="run directory (default: runs/<spec name>)")
    parser.add_argument("--resume", action="store_true", help="continue from the last checkpoint in --out")
    add_debug_option(parser)
    parser.set_defaults(handler=command)


def command(args) -> int:
    from ..spec.validation import load_spec

    resolved = load_spec(args.spec, args.overrides)
    if resolved.spec.sweep:  # a grid: the sweep layer runs its variants in turn, each resuming by itself
        from ..sweep import run_sweep

        run_sweep(resolved, out=args.out)
        return 0
    from ..train import train

    train(resolved, Path(args.out) if args.out else Path("runs") / resolved.spec.name, resume=args.resume)
    return 0
