"""Where a run starts: from scratch, or from its last checkpoint when resumed with the same spec."""

from __future__ import annotations

import sys
from pathlib import Path

from ..errors import LssatError
from ..spec.changes import describe_differences, resolved_view, spec_differences
from ..spec.resolved import ResolvedSpec
from .checkpoints import find_checkpoint
from .rundir import METRICS_FILE, SPEC_FILE


def starting_checkpoint(out_dir: Path, resume: bool, resolved: ResolvedSpec) -> Path | None:
    """The checkpoint a run starts from (None: from scratch), or the error that it cannot start.
    A run stopped before its first checkpoint starts over, with or without ``--resume``; a resume
    with another result-affecting setting is refused, naming each key."""
    checkpoint = find_checkpoint(out_dir / "checkpoints" / "last")
    if checkpoint is None:
        if resume and not (out_dir / METRICS_FILE).exists() and not (out_dir / SPEC_FILE).exists():
            raise LssatError(f"--resume: no checkpoint in {out_dir / 'checkpoints' / 'last'}; run without --resume to start")
        if (out_dir / SPEC_FILE).exists() or (out_dir / METRICS_FILE).exists():
            print(f"lssat: {out_dir} was stopped before its first checkpoint; it starts over", file=sys.stderr)
        return None
    if not resume:
        raise LssatError(f"{out_dir} already holds a run; pass --resume to continue it or --out to choose another directory")
    view = resolved_view(resolved)
    changed = spec_differences(out_dir, resolved.raw, view)
    if changed:
        raise LssatError(
            f"--resume: {out_dir} was started with another spec ({describe_differences(out_dir, resolved.raw, changed, view)}); "
            "a run that changes these midway has numbers that belong to neither setting. Resume with the run's own spec "
            f"({out_dir / SPEC_FILE}) or start a new run with --out"
        )
    return checkpoint
