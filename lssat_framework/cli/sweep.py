"""``lssat sweep``: run a spec's grid through a launcher, list it, follow it, collect it.

    lssat sweep SPEC [--out DIR] [--set K=V] [--launcher inline|local|slurm] [--parallel N] [--wait]
    lssat sweep SPEC --variant I|NAME|auto      # exactly one variant (any scheduler's array job)
    lssat sweep SPEC --list | --status | --collect
    lssat sweep status DIR                      # the status of a sweep folder, without the spec
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..errors import LssatError
from ..sweep.state import STATES


def add_parser(subparsers) -> argparse.ArgumentParser:
    parser = subparsers.add_parser("sweep", help="run a spec's sweep grid (inline, on this machine's GPUs, or on Slurm)",
                                   description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("spec", help="experiment spec with a sweep: section, a file or a shipped spec's name (or the word 'status' followed by a sweep folder)")
    parser.add_argument("folder", nargs="?", help=argparse.SUPPRESS)
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY.PATH=VALUE",
                        help="override a spec value, e.g. --set train.epochs=1 or --set launcher.partition=gpu (repeatable)")
    parser.add_argument("--out", default=None, help="sweep folder, one run directory per variant (default: runs/<spec name>)")
    parser.add_argument("--launcher", choices=["inline", "local", "slurm"], default="inline",
                        help="inline: variants in turn in this process; local: up to --parallel at once on this machine; slurm: a job array")
    parser.add_argument("--parallel", type=int, default=None, metavar="N", help="variants at once (default: launcher.parallel)")
    parser.add_argument("--wait", action="store_true",
                        help="slurm: stay until every job ends, with a progress bar; exit 2 when a variant failed (Ctrl-C leaves the jobs running)")
    parser.add_argument("--variant", default=None, metavar="I|NAME|auto",
                        help="run only this variant (index from --list, name, or auto: the scheduler's array index)")
    parser.add_argument("--rerun-changed", action="store_true",
                        help="delete and run again the variants whose stored spec differs from this one (default: refuse)")
    parser.add_argument("--no-check-data", dest="check_data", action="store_false",
                        help="skip opening each dataset before launching")
    what = parser.add_mutually_exclusive_group()
    what.add_argument("--list", action="store_true", help="print index, name and state of every variant")
    what.add_argument("--status", action="store_true", help="print state, epoch, headline metric and job id of every variant")
    what.add_argument("--collect", action="store_true", help="rebuild leaderboard, plots and answers from the finished variants")
    parser.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help="show tracebacks of errors")
    parser.set_defaults(handler=command)
    return parser


def _table(statuses, full: bool) -> str:
    header = ["index", "variant", "state"] + (["epoch", "headline", "job", "error"] if full else [])
    rows = []
    for s in statuses:
        row = [str(s.index), s.name, s.state]
        if full:
            epoch = f"{s.epoch}/{s.epochs}" if s.epochs else str(s.epoch)
            row += [epoch, "" if s.value is None else f"{s.value:.4f}", s.job_id or "", s.error or ""]
        rows.append(row)
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in [header, *rows]]
    counts = {state: sum(s.state == state for s in statuses) for state in STATES}
    return "\n".join(lines + [", ".join(f"{n} {state}" for state, n in counts.items() if n)])


def command(args) -> int:
    from ..spec.validation import load_spec
    from ..sweep.collect import collect, statuses
    from ..sweep.launch import default_out, manifest, run_sweep
    from ..sweep.state import read_manifest

    if args.spec == "status":
        if not args.folder:
            raise LssatError("lssat sweep status DIR: name the sweep folder")
        folder = Path(args.folder)
        print(_table(statuses(folder, read_manifest(folder)), full=True))
        return 0
    if args.folder:
        raise LssatError(f"lssat sweep: unexpected argument '{args.folder}' (the sweep folder is --out DIR)")
    resolved = load_spec(args.spec, args.overrides)
    if not resolved.spec.sweep:
        raise LssatError(f"{args.spec}: no sweep: section; `lssat run {args.spec}` trains a single run")
    out_dir = Path(args.out) if args.out else default_out(resolved)
    if args.list or args.status or args.collect:
        from ..sweep.grid import expand

        grid = manifest(resolved, expand(resolved))
        if args.collect:
            collect(out_dir, manifest=grid)
        else:
            print(_table(statuses(out_dir, grid), full=args.status))
        return 0
    run_sweep(resolved, out=out_dir, launcher=args.launcher, parallel=args.parallel, variant=args.variant,
              rerun_changed=args.rerun_changed, check_data=args.check_data, wait=args.wait)
    return 0
