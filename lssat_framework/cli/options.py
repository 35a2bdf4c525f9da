"""What several commands share: their exit status for a user's error and their common options."""

from __future__ import annotations

import argparse

EXIT_USER_ERROR = 2


def add_debug_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help="show tracebacks of errors")


def add_spec_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("spec", help="experiment spec: a YAML file, or a shipped spec's name (lssat specs lists them)")
    parser.add_argument(
        "--set", dest="overrides", action="append", default=[], metavar="KEY.PATH=VALUE",
        help="override a spec value, e.g. --set train.epochs=1 (repeatable; values are YAML)",
    )
