"""The ``lssat`` and ``lssat-run`` commands.

User errors print one clear message on stderr and exit with status 2; ``--debug`` shows the
traceback instead. Output into a pipe whose reader has gone (``lssat list backbone | head``) ends
quietly with status 141, like a Unix tool killed by SIGPIPE.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Sequence

from .errors import LssatError

EXIT_USER_ERROR = 2
EXIT_BROKEN_PIPE = 128 + 13  # as if killed by SIGPIPE


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help="show tracebacks of errors")


def _spec_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("spec", help="experiment spec (YAML)")
    parser.add_argument(
        "--set", dest="overrides", action="append", default=[], metavar="KEY.PATH=VALUE",
        help="override a spec value, e.g. --set train.epochs=1 (repeatable; values are YAML)",
    )


def build_parser() -> argparse.ArgumentParser:
    from .plugins import KINDS, get_plugin_manager

    parser = argparse.ArgumentParser(prog="lssat", description="Train and benchmark L-SSAT face models.")
    _common(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    run = sub.add_parser("run", help="train and evaluate a spec (or a sweep)")
    _spec_args(run)
    run.add_argument("--out", default=None, help="run directory (default: runs/<spec name>)")
    run.add_argument("--resume", action="store_true", help="continue from the last checkpoint in --out")
    _common(run)
    run.set_defaults(handler=cmd_run)

    validate = sub.add_parser("validate", help="validate a spec (both stages) without training")
    _spec_args(validate)
    _common(validate)
    validate.add_argument("--build", action="store_true", help="also build the parts and check that they fit (image size, patch grid, channels) and keep their contracts: a dry forward of 2 random images through the model, the task's loss and its metrics")
    validate.add_argument("--check-data", action="store_true", help="also open each dataset (lists only, no image decoded), every sweep variant's; implies --build")
    validate.set_defaults(handler=cmd_validate)

    evaluate = sub.add_parser("eval", help="evaluate a checkpoint on a split")
    _spec_args(evaluate)
    evaluate.add_argument("--checkpoint", required=True, help="a run directory or one of its checkpoint folders")
    evaluate.add_argument("--split", default="val")
    evaluate.add_argument("--on", action="append", default=[], metavar="NAME:ROOT", help="also evaluate on this dataset's test split (repeatable): a cross-dataset table")
    evaluate.add_argument("--out", default=None, help="the report's JSON file (default: ./eval_<split>.json); with test sets, the folder for the cross-dataset table and ROC curves (default: ./cross_dataset)")
    _common(evaluate)
    evaluate.set_defaults(handler=cmd_eval)

    predict = sub.add_parser("predict", help="score image files with a finished run's model")
    predict.add_argument("images", nargs="+", help="image files or folders")
    predict.add_argument("--checkpoint", required=True, help="a finished run directory")
    predict.add_argument("--out", default="predictions.csv", help="CSV to write (default predictions.csv)")
    _common(predict)
    predict.set_defaults(handler=cmd_predict)

    plugins = sub.add_parser("plugins", help="list installed plugins")
    plugins.add_argument("--json", action="store_true", help="machine-readable output")
    plugins.add_argument("--check", action="store_true", help="also import every lazily registered factory and check it against its params (exit 2 when one fails)")
    _common(plugins)
    plugins.set_defaults(handler=cmd_plugins)

    lister = sub.add_parser("list", help="list registered components of a kind")
    lister.add_argument("kind", help=f"one of: {', '.join(KINDS)}")
    lister.add_argument("pattern", nargs="?", default="*", help="fnmatch pattern, e.g. 'vit_*'")
    lister.add_argument("--json", action="store_true", help="machine-readable output")
    _common(lister)
    lister.set_defaults(handler=cmd_list)

    from .sweep_cli import add_sweep_parser

    add_sweep_parser(sub)

    add_plugin_commands(sub, get_plugin_manager())
    return parser


class _PluginSubparsers:
    """The sub-parser action as one plugin's ``register_commands`` sees it.

    A command name that exists already is skipped with a warning (argparse would raise, and every
    command would fail); the hook gets a detached parser, so the rest of it still runs.
    """

    def __init__(self, subparsers, owners: dict[str, str], info, manager):
        self._subparsers, self._owners, self._info, self._manager = subparsers, owners, info, manager
        self.added: list[str] = []

    def add_parser(self, name, **kwargs):
        names = [name, *kwargs.get("aliases", ())]
        taken = next((n for n in names if n in self._subparsers.choices), None)
        if taken is not None:
            self._manager.warn(f"{self._info.label} adds the command '{taken}', which {self._owners[taken]} has already; the plugin's command was skipped")
            kwargs.pop("aliases", None)
            kwargs.pop("help", None)
            return argparse.ArgumentParser(prog=f"lssat {name}", **kwargs)
        parser = self._subparsers.add_parser(name, **kwargs)
        self.added += names
        self._owners.update(dict.fromkeys(names, self._info.label))
        return parser

    def __getattr__(self, attribute):
        return getattr(self._subparsers, attribute)


def add_plugin_commands(sub, manager) -> None:
    """Each plugin's ``register_commands``, in load order; a plugin whose hook raises is skipped,
    and the commands it added before raising are removed."""
    owners = dict.fromkeys(sub.choices, "lssat itself")
    for info in manager.active_plugins():
        guarded = _PluginSubparsers(sub, owners, info, manager)
        if not manager.call_hook(info, "register_commands", guarded):
            for name in guarded.added:  # argparse has no public way to drop a sub-command
                sub._name_parser_map.pop(name, None)
            sub._choices_actions[:] = [a for a in sub._choices_actions if a.dest not in guarded.added]


def cmd_validate(args) -> int:
    from .spec import load_spec

    resolved = load_spec(args.spec, args.overrides)
    built = args.build or args.check_data
    dry_forward = None
    if built:
        _check_compatibility(resolved)
        dry_forward = _dry_forward(resolved)
    if args.check_data:
        from .sweep.preflight import check_spec_data

        check_spec_data(resolved)
    names = {section: rc.component.qualified_name for section, rc in resolved.components.items()}
    print(f"{args.spec}: valid")
    for section, name in names.items():
        print(f"  {section}: {name}")
    print(f"  modalities: {', '.join(sorted(resolved.modalities))}")
    if dry_forward:
        print(f"  dry forward: {dry_forward}")
    if args.check_data:
        print("  data: opened; the train and val splits hold samples")
    if not built:
        print("  parts not built: --build also checks image size, patch grid and channels, as `run` does")
    return 0


def _check_compatibility(resolved) -> None:
    """What ``run`` would refuse while building (no data read); a sweep variant by variant."""
    from .compat import check_compatibility
    from .errors import SpecError

    if not resolved.spec.sweep:
        return check_compatibility(resolved)
    from .sweep import expand

    built, problems = {}, []
    for name, _, variant in expand(resolved):
        try:
            check_compatibility(variant, built)
        except SpecError as exc:
            problems += [(f"sweep[{name}] {path}", message) for path, message in exc.problems]
    if problems:
        raise SpecError(problems, source=resolved.source)


def _dry_forward(resolved) -> str:
    """Build the parts for real, as ``run`` does, with the dry forward of
    :func:`~lssat_framework.contracts.dry_check` (each sweep variant's); a dataset that cannot be
    opened here skips its variant. Returns what was checked, in words."""
    from .contracts import DRY_IMAGES
    from .errors import DataError, PluginFaultError
    from .model import build

    variants = [("", resolved)]
    if resolved.spec.sweep:
        from .sweep import expand

        variants = [(f"sweep[{name}]: ", variant) for name, _, variant in expand(resolved)]
    checked, skipped = 0, []
    for prefix, variant in variants:
        try:
            source = variant.components["data"].build()
        except DataError as exc:
            skipped.append(f"{prefix}{str(exc).splitlines()[0]}")
            continue
        try:
            build(variant, source=source)
        except PluginFaultError as exc:
            if not prefix:
                raise
            raise PluginFaultError(f"{prefix}{exc}") from exc
        checked += 1
    if not checked:
        return f"not run, the dataset cannot be opened here ({skipped[0]})"
    line = f"{DRY_IMAGES} random images through the model, the task's loss and its metrics: every contract holds"
    if len(variants) > 1:
        line += f" ({checked} of {len(variants)} variants" + (f"; not run where the data cannot be opened here: {skipped[0]}" if skipped else "") + ")"
    return line


def cmd_run(args) -> int:
    from pathlib import Path

    from .spec import load_spec

    resolved = load_spec(args.spec, args.overrides)
    if resolved.spec.sweep:  # a grid: the sweep layer runs its variants in turn, each resuming by itself
        from .sweep import run_sweep

        run_sweep(resolved, out=args.out)
        return 0
    from .train import train

    train(resolved, Path(args.out) if args.out else Path("runs") / resolved.spec.name, resume=args.resume)
    return 0


def cmd_eval(args) -> int:
    from .spec import load_spec

    resolved = load_spec(args.spec, args.overrides)
    if args.on or resolved.spec.evaluate:  # the spec's test sets, then the --on ones
        from pathlib import Path

        from .train.cross import TABLE, cross_evaluate

        out = Path(args.out or TABLE)
        cross_evaluate(resolved, args.checkpoint, args.on, out, overrides=args.overrides)
        print((out / f"{TABLE}.md").read_text() + f"written to {out}")
        return 0
    from pathlib import Path

    from .safe_files import write_text_atomic
    from .train.trained import evaluation_report

    report = evaluation_report(resolved, args.checkpoint, split=args.split, overrides=args.overrides)
    out = Path(args.out or f"eval_{report['split']}.json")
    text = json.dumps(report, indent=2)
    write_text_atomic(out, text + "\n")
    print(text)
    print(f"written to {out}", file=sys.stderr)
    return 0


def cmd_predict(args) -> int:
    from .train import predict

    count = predict(args.checkpoint, args.images, args.out)
    print(f"{count} images scored: {args.out}")
    return 0


def cmd_plugins(args) -> int:
    from .plugins import get_plugin_manager

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


def cmd_list(args) -> int:
    from .plugins import get_plugin_manager

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
