"""``lssat report PATH [--out FILE]``: a sweep or run folder as one self-contained HTML page.

    lssat report runs/study                  # runs/study/report.html
    lssat report runs/quickstart --out quickstart.html
"""

from __future__ import annotations

import argparse


def add_parser(subparsers) -> argparse.ArgumentParser:
    parser = subparsers.add_parser("report", help="a sweep or run folder as one HTML page (pictures embedded, opens offline)",
                                   description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("path", help="a sweep folder (with sweep.json) or a run folder (with spec.yaml)")
    parser.add_argument("--out", default=None, metavar="FILE", help="where the page goes (default: PATH/report.html)")
    parser.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help="show tracebacks of errors")
    parser.set_defaults(handler=command)
    return parser


def command(args) -> int:
    from ..report import write_report

    print(write_report(args.path, args.out))
    return 0
