"""Every time that README.md, the shipped specs' comments and docs/*.md state comes from the one
table of measured times in docs/performance.md (with the machine, its load and the thread count of
each figure), or is a link to that table: a time read in one place and measured in another, on
another day, under another load, is what a newcomer cannot trust.

What is not a measured time is listed below with its reason (a setting, an example message); the
benchmark sections of performance.md state their own script's figures beside its tables."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PERFORMANCE = ROOT / "docs" / "performance.md"
TABLE_HEADING = "## Measured times"

NUMBER = r"\d+(?:[.,]\d+)?"
UNIT = r"(?:ms|µs|s|secs?|seconds?|min|mins|minutes?|h|hours?)"
TIME_FIGURE = re.compile(
    rf"(?<![\w.:/])(?:"
    rf"{NUMBER}\s*(?:h|m|min)\s+{NUMBER}\s*(?:min|m|s)\b"  # 3 m 45 s, 1 h 12 min
    rf"|{NUMBER}\s*(?:–|-|to)\s*{NUMBER}\s*{UNIT}\b"  # 1.5–6 min, 1 to 20 s
    rf"|{NUMBER}\s*{UNIT}\b"  # 90 s, 46 minutes
    r"|\d{1,2}:\d{2}(?::\d{2})?(?![\d:])"  # 16:17 (minutes:seconds), 24:00:00
    r"|(?:a few|several|some|a couple of|many)\s+(?:seconds|minutes|hours)\b"  # a time no one measured
    r")"
)
UNIT_SPELLINGS = {"seconds": "s", "second": "s", "secs": "s", "sec": "s", "minutes": "min", "minute": "min",
                  "mins": "min", "m": "min", "hours": "h", "hour": "h"}

#: sections of performance.md that report one benchmark script's figures, measured side by side
#: and stated beside the table the script printed (the script and its settings head each section)
BENCHMARK_SECTIONS = (
    "## Descriptors", "## Training step", "## Training recipes", "## Data loading",
    "## Commands that build no model", "## Evaluation: the video bootstrap", "## Rebuilding a sweep's page",
)
#: (file, figure): why it is not a measured time
NOT_MEASURED = {
    ("docs/running.md", "30 s"): "the writer lock's heartbeat interval, a setting",
    ("docs/running.md", "24:00:00"): "a PBS walltime in an example job script",
    ("docs/running.md", "2 s"): "Slurm's KillWait in the one-node cluster's configuration, a setting",
    ("docs/plugins.md", "1 s"): "the import time over which a plugin is named, a threshold",
    ("docs/security.md", "1 s"): "the import time over which a plugin is named, a threshold",
    ("docs/troubleshooting.md", "3.1 s"): "the import time in an example warning",
    ("docs/troubleshooting.md", "2 s"): "how long the hub connection attempt may take, a setting",
    ("docs/training-recipes.md", "2 s"): "how long the hub connection attempt may take, a setting",
    ("docs/performance.md", "15 s"): "how often the table's load was read",
}


def normalised(figure: str) -> str:
    """One spelling per figure: ``1.5 to 6 minutes`` and ``1.5–6 min`` are the same."""
    words = re.sub(r"\s*(?:–|-|\bto\b)\s*(?=\d)", "–", figure.strip())
    words = re.sub(r"(?<=\d)(?=[a-zµ])", " ", words)
    return " ".join(UNIT_SPELLINGS.get(word, word) for word in words.split())


def section_of(lines: list[str], index: int) -> str:
    return next((line for line in reversed(lines[: index + 1]) if line.startswith("## ")), "")


def table_lines(text: str) -> list[str]:
    lines = text.splitlines()
    start = lines.index(TABLE_HEADING)
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
    return [line for line in lines[start:end] if line.startswith("|")]


def measured_figures() -> set[str]:
    """The figures of the table's rows (every cell: a time cell may hold several, and a row may
    give a count beside a time)."""
    return {normalised(match.group(0)) for line in table_lines(PERFORMANCE.read_text()) for match in TIME_FIGURE.finditer(line)}


def shipped_spec_comments() -> list[tuple[str, str]]:
    """(file, comment) of every comment line of the shipped specs."""
    found = []
    for path in sorted((ROOT / "lssat_framework" / "specs").rglob("*.yaml")):
        for line in path.read_text().splitlines():
            if "#" in line:
                found.append((str(path.relative_to(ROOT)), line[line.index("#"):]))
    return found


def stated_figures() -> list[tuple[str, str, str]]:
    """(file, figure, its line) of every time figure a newcomer reads, outside the table itself
    and performance.md's benchmark sections."""
    texts = [("README.md", line) for line in (ROOT / "README.md").read_text().splitlines()]
    texts += shipped_spec_comments()
    for page in sorted((ROOT / "docs").glob("*.md")):
        lines = page.read_text().splitlines()
        in_table = set(table_lines(page.read_text())) if page == PERFORMANCE else set()
        for index, line in enumerate(lines):
            if page == PERFORMANCE and (line in in_table or section_of(lines, index).startswith(BENCHMARK_SECTIONS)):
                continue
            texts.append((f"docs/{page.name}", line))
    return [(name, match.group(0), line) for name, line in texts for match in TIME_FIGURE.finditer(line)]


def test_the_pattern_finds_the_figures_newcomers_read():
    found = [match.group(0) for match in TIME_FIGURE.finditer(
        "about 90 s, a few minutes, 1.5–6 min, 3 m 45 s, 16:17 wall, 1.5 to 6 minutes, 200 ms; not 64×64, v0.2, 8 steps")]
    assert found == ["90 s", "a few minutes", "1.5–6 min", "3 m 45 s", "16:17", "1.5 to 6 minutes", "200 ms"]
    assert normalised("1.5 to 6 minutes") == normalised("1.5–6 min") == "1.5–6 min"


def test_the_table_gives_machine_load_and_threads_for_each_figure():
    rows = table_lines(PERFORMANCE.read_text())
    header = [cell.strip() for cell in rows[0].strip("|").split("|")]
    assert {"machine", "load", "threads"} <= set(header), header
    for row in rows[2:]:
        cells = dict(zip(header, (cell.strip() for cell in row.strip("|").split("|"))))
        assert all(cells.get(column) for column in ("machine", "load", "threads")), row
        assert TIME_FIGURE.search(cells.get("time", "")), f"a row without a time: {row}"


def test_every_stated_time_comes_from_the_table():
    measured = measured_figures()
    stray = [f"{name}: {figure!r} in: {line.strip()}" for name, figure, line in stated_figures()
             if normalised(figure) not in measured and (name, figure) not in NOT_MEASURED]
    assert not stray, ("time figures that are not in the table of measured times (docs/performance.md, "
                       f"'{TABLE_HEADING}'): quote one of its figures or link to it (performance.md#measured-times):\n" + "\n".join(stray))


def test_the_exceptions_are_still_there():
    stated = {(name, figure) for name, figure, _ in stated_figures()}
    assert not set(NOT_MEASURED) - stated, set(NOT_MEASURED) - stated
