"""``lssat plugins [--json] [--check]``: the installed plugins, their components and import times."""

from __future__ import annotations

import json
import sys

from .options import EXIT_USER_ERROR, add_debug_option


def add_parser(sub) -> None:
    parser = sub.add_parser("plugins", help="list installed plugins")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument("--check", action="store_true", help="also import every lazily registered factory and check it against its params (exit 2 when one fails)")
    add_debug_option(parser)
    parser.set_defaults(handler=command)


def command(args) -> int:
    from ..plugins.manager import get_plugin_manager

    manager = get_plugin_manager()
    report = [info.as_dict() for info in manager.report()]
    broken = manager.check_references() if args.check else []
    if args.json:
        print(json.dumps(report if not args.check else {"plugins": report, "broken_references": broken}, indent=2))
    else:
        _print_plugins(report)
    if args.check:
        for problem in broken:
            print(f"lssat: error: {problem}", file=sys.stderr)
        if not args.json:
            print(f"references: {'all resolve' if not broken else f'{len(broken)} broken'}")
    return EXIT_USER_ERROR if broken else 0


def _print_plugins(report: list[dict]) -> None:
    """The table of ``lssat plugins``; ``import`` is the time its entry point took to import."""
    rows = []
    for info in report:
        counts = ", ".join(f"{kind}: {len(names)}" for kind, names in info["components"].items()) or "-"
        took = "-" if info["import_ms"] is None else f"{info['import_ms']:.0f} ms"
        rows.append((info["qualifier"], f"{info['distribution']} {info['version']}", info["status"], took, counts, info["error"]))
    headers = ("plugin", "distribution", "status", "import")
    widths = [max([len(r[i]) for r in rows] + [len(h)]) for i, h in enumerate(headers)]
    print("  ".join(f"{h:<{w}}" if i != 3 else f"{h:>{w}}" for i, (h, w) in enumerate(zip(headers, widths))) + "  components")
    for name, dist, status, took, counts, error in rows:
        print(f"{name:<{widths[0]}}  {dist:<{widths[1]}}  {status:<{widths[2]}}  {took:>{widths[3]}}  {counts}")
        if error:
            print(f"{'':<{widths[0]}}  {error}")
