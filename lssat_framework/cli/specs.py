"""``lssat specs``: the specs that ship with the framework; ``lssat init NAME [DIR]``: one copied
out to edit. Any command that takes a spec also takes a shipped spec's name (``lssat-run quickstart``)."""

from __future__ import annotations

from .options import add_debug_option


def add_parser(sub) -> None:
    listing = sub.add_parser("specs", help="list the example specs that ship with the framework")
    add_debug_option(listing)
    listing.set_defaults(handler=list_command)
    init = sub.add_parser("init", help="copy a shipped spec into a folder, to edit")
    init.add_argument("name", help="a shipped spec's name (lssat specs lists them)")
    init.add_argument("folder", nargs="?", default=".", help="where to write NAME.yaml (default: here); made when missing")
    add_debug_option(init)
    init.set_defaults(handler=command)


def list_command(args) -> int:
    from ..spec.shipped import shipped_specs

    specs = shipped_specs()
    width = max(map(len, specs), default=0)
    for spec in specs.values():
        print(f"{spec.name:<{width}}  {spec.description}".rstrip())
    print("\nrun one: lssat-run NAME; copy one out to edit: lssat init NAME [DIR]")
    return 0


def command(args) -> int:
    """``lssat init NAME [DIR]``."""
    from ..spec.shipped import copy_out

    target = copy_out(args.name, args.folder)
    print(f"wrote {target}; edit it, then: lssat-run {target}")
    return 0
