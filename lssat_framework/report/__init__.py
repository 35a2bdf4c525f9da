"""The study as one page (``lssat report PATH``): a sweep or run folder's files turned into one
self-contained HTML file, pictures embedded, readable offline and with scripts off.

Placed between the sweep and the run: a sweep rebuilds its page when it collects, and the page is
built from what the folder holds, read through the run's own readers; it never imports the sweep.

``folder``      what a sweep or run folder holds, read as untrusted files
``sweep_page``  the sweep's page: answers with their pictures, leaderboard, curves, cross-dataset, variants, environment
``run_page``    a run's page: what it reports, curves, grids over the epochs, ROC, cross-dataset, environment
``sections``    what both share; ``study`` the study's pictures; ``curves`` training and ROC curves
``page``        the HTML building blocks; ``numbers`` how each column's numbers are shown;
``pictures``    a run's PNGs embedded (thumbnails where large); ``drawing`` figures as SVG data
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

REPORT_FILE = "report.html"


def write_report(path: str | Path, out: str | Path | None = None, pictures: dict[str, Any] | None = None) -> Path:
    """Write the page of the sweep or run folder ``path`` into ``out`` (default:
    ``path/report.html``); returns where it went. ``pictures``: a sweep's plots as it just drew
    them (``sweep.plots.draw_plots``), used where the folder's ``answers.json`` holds their data."""
    from ..files.safe import write_text_atomic
    from . import folder as folders
    from . import run_page, sweep_page

    path = Path(path)
    kind = folders.kind(path)
    text = sweep_page.build(path, pictures) if kind == "sweep" else run_page.build(path)
    target = Path(out) if out is not None else path / REPORT_FILE
    target.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(target, text)
    return target


def refresh_report(path: Path, pictures: dict[str, Any] | None = None) -> Path | None:
    """:func:`write_report` for a sweep that collects: a page that cannot be written is a warning,
    never a failed variant."""
    try:
        return write_report(path, pictures=pictures)
    except Exception as error:  # the page is a view of the results; the results stand without it
        print(f"lssat: warning: {Path(path) / REPORT_FILE} not written ({type(error).__name__}: {error}); "
              f"lssat report {path} tries again", file=sys.stderr)
        return None
