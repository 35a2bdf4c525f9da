"""The ``lssat`` and ``lssat-run`` commands: the parser made of each command module's, and the
one place errors become an exit status.

User errors print one clear message on stderr and exit with status 2; ``--debug`` shows the
traceback instead. Output into a pipe whose reader has gone (``lssat list backbone | head``) ends
quietly with status 141, like a Unix tool killed by SIGPIPE.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Sequence

from ..errors import LssatError
from . import evaluate, listing, plugin_table, predict, report, run, specs, sweep, validate
from .options import EXIT_USER_ERROR, add_debug_option
from .plugin_commands import add_plugin_commands

EXIT_BROKEN_PIPE = 128 + 13  # as if killed by SIGPIPE
#: the commands in the order ``lssat --help`` lists them
COMMANDS = (run, validate, evaluate, predict, plugin_table, listing, sweep, report, specs)


def build_parser() -> argparse.ArgumentParser:
    from ..plugins.manager import get_plugin_manager

    parser = argparse.ArgumentParser(prog="lssat", description="Train and benchmark L-SSAT face models.")
    add_debug_option(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in COMMANDS:
        module.add_parser(sub)
    add_plugin_commands(sub, get_plugin_manager())
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv or os.environ.get("LSSAT_DEBUG") == "1"
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        if not getattr(args, "handler", None):
            parser.print_help()
            return EXIT_USER_ERROR
        status = int(args.handler(args) or 0)
        sys.stdout.flush()  # a closed pipe shows here, not in the interpreter's last flush
        return status
    except BrokenPipeError:
        return _reader_went_away()
    except LssatError as exc:
        if debug:
            raise
        print(f"lssat: error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("lssat: interrupted", file=sys.stderr)
        return 130
    finally:
        _leave_process_group()


def _leave_process_group() -> None:
    """Under torchrun, the launch's process group is left once the command is done (not by each
    run: ``lssat run`` on a sweep trains every variant in it). Nothing is imported where the
    command never loaded ``torch.distributed``."""
    if "torch.distributed" in sys.modules:
        from ..train import leave_process_group

        leave_process_group()


def _reader_went_away() -> int:
    """``lssat list backbone | head``: the reader closed the pipe. Stop quietly with the status of
    a process killed by SIGPIPE, as other Unix tools do; stdout goes to devnull so that Python's
    flush at exit does not raise again."""
    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (OSError, ValueError):  # stdout is no file (replaced in-process): nothing is left to flush
        pass
    return EXIT_BROKEN_PIPE


def run_main(argv: Sequence[str] | None = None) -> int:
    """``lssat-run ...`` is ``lssat run ...``."""
    argv = list(sys.argv[1:] if argv is None else argv)
    return main(["run", *argv])
