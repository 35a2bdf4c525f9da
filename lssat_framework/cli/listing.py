"""``lssat list KIND [PATTERN] [--json]``: the registered components of a kind."""

from __future__ import annotations

import json

from ..plugins.manager import KINDS
from .options import add_debug_option


def add_parser(sub) -> None:
    parser = sub.add_parser("list", help="list registered components of a kind")
    parser.add_argument("kind", help=f"one of: {', '.join(KINDS)}")
    parser.add_argument("pattern", nargs="?", default="*", help="fnmatch pattern, e.g. 'vit_*'")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    add_debug_option(parser)
    parser.set_defaults(handler=command)


def command(args) -> int:
    from ..plugins.manager import get_plugin_manager

    manager = get_plugin_manager()
    names = manager.list(args.kind, args.pattern)
    if args.json:
        found = [(name, manager.get(args.kind, name)) for name in names]
        keys = ("plugin", "distribution", "version", "description")
        print(json.dumps([{"name": name, **{key: getattr(c, key) for key in keys}} for name, c in found], indent=2))
        return 0
    for name in names:
        component = manager.get(args.kind, name)
        print(f"{name:<32} {component.description}" if component.description else name)
    return 0
