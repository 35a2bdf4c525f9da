"""``lssat validate SPEC [--build] [--check-data]``: both stages of validation, and with
``--build`` what ``run`` checks while building (image size, patch grid, channels, a dry forward)."""

from __future__ import annotations

from .options import add_debug_option, add_spec_options


def add_parser(sub) -> None:
    parser = sub.add_parser("validate", help="validate a spec (both stages) without training")
    add_spec_options(parser)
    add_debug_option(parser)
    parser.add_argument("--build", action="store_true", help="also build the parts and check that they fit (image size, patch grid, channels) and keep their contracts: a dry forward of 2 random images through the model, the task's loss and its metrics")
    parser.add_argument("--check-data", action="store_true", help="also open each dataset (lists only, no image decoded), every sweep variant's; implies --build")
    parser.set_defaults(handler=command)


def command(args) -> int:
    from ..spec.validation import load_spec

    resolved = load_spec(args.spec, args.overrides)
    built = args.build or args.check_data
    dry_forward = None
    if built:
        _check_compatibility(resolved)
        dry_forward = _dry_forward(resolved)
    if args.check_data:
        from ..sweep.preflight import check_spec_data

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
    """What ``run`` would refuse while building (no data read); a sweep variant by variant, as the
    sweep checks its grid before it launches."""
    if not resolved.spec.sweep:
        from ..model.compat import check_compatibility

        return check_compatibility(resolved)
    from ..sweep import expand
    from ..sweep.preflight import check_grid_builds

    check_grid_builds(expand(resolved))


def _dry_forward(resolved) -> str:
    """Build the parts for real, as ``run`` does, with the dry forward of
    :func:`~lssat_framework.plugins.contracts.dry_check` (each sweep variant's); a dataset that cannot be
    opened here skips its variant. Returns what was checked, in words."""
    from ..errors import DataError, PluginFaultError
    from ..model.lssat_model import build
    from ..plugins.contracts import DRY_IMAGES

    variants = [("", resolved)]
    if resolved.spec.sweep:
        from ..sweep import expand

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
