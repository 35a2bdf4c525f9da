"""The command line: one module per command (``add_parser(sub)`` and ``command(args)``), the parser
assembled and errors turned into an exit status in :mod:`.app`. The top layer: it may import every
other room; nothing imports it."""

from .app import build_parser, main, run_main
from .options import EXIT_USER_ERROR

__all__ = ["EXIT_USER_ERROR", "build_parser", "main", "run_main"]
