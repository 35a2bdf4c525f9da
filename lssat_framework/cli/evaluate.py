"""``lssat eval SPEC --checkpoint RUN``: a checkpoint's report on one split, or the cross-dataset
table on the spec's test sets and ``--on`` ones."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from .options import add_debug_option, add_spec_options


def add_parser(sub) -> None:
    parser = sub.add_parser("eval", help="evaluate a checkpoint on a split")
    add_spec_options(parser)
    parser.add_argument("--checkpoint", required=True, help="a run directory or one of its checkpoint folders")
    parser.add_argument("--split", default="val")
    parser.add_argument("--on", action="append", default=[], metavar="NAME:ROOT", help="also evaluate on this dataset's test split (repeatable): a cross-dataset table")
    parser.add_argument("--out", default=None, help="the report's JSON file (default: ./eval_<split>.json); with test sets, the folder for the cross-dataset table and ROC curves (default: ./cross_dataset)")
    add_debug_option(parser)
    parser.set_defaults(handler=command)


def command(args) -> int:
    from ..spec.validation import load_spec

    resolved = load_spec(args.spec, args.overrides)
    if args.on or resolved.spec.evaluate:  # the spec's test sets, then the --on ones
        from ..train.cross import TABLE, cross_evaluate

        out = Path(args.out or TABLE)
        cross_evaluate(resolved, args.checkpoint, args.on, out, overrides=args.overrides)
        print((out / f"{TABLE}.md").read_text() + f"written to {out}")
        return 0
    from ..files.safe import write_text_atomic
    from ..train.trained import evaluation_report

    report = evaluation_report(resolved, args.checkpoint, split=args.split, overrides=args.overrides)
    out = Path(args.out or f"eval_{report['split']}.json")
    text = json.dumps(report, indent=2)
    write_text_atomic(out, text + "\n")
    print(text)
    print(f"written to {out}", file=sys.stderr)
    return 0
