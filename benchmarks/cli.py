"""Wall time and peak memory of the CLI commands that build no model, each in a fresh process.

Each command runs ``--repeat`` times as ``python -m lssat_framework ...`` (what the ``lssat``
script runs), after one run that fills the timm model-name cache; the fastest wall time and the
largest peak resident memory (the child's ``ru_maxrss``) are printed, with whether torch was
imported. ``lssat sweep --status`` reads the study's 45 variants (the shipped spec ``study``). For
scale, the interpreter alone and ``import torch, timm`` (what every command paid before plugins
registered lazily) are measured the same way.

    python benchmarks/cli.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: the goal of the issue that made registration lazy, for each command that builds no model
GOAL_SECONDS, GOAL_MB = 0.5, 100

#: prints, after the command, whether torch was imported (on stderr, so --help's exit is kept)
PROBE = (
    "import sys\nfrom lssat_framework.cli import main\n"
    "try:\n    status = main(sys.argv[1:])\nexcept SystemExit as exit:\n    status = exit.code\n"
    "print('torch imported' if 'torch' in sys.modules else 'no torch', file=sys.stderr)\nsys.exit(status or 0)\n"
)


def measure(argv: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """One fresh process: wall seconds, its own peak memory in MB (``wait4``'s rusage of that
    child alone), and what it says of torch."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        start = time.perf_counter()
        child = subprocess.Popen(argv, stdout=out, stderr=err, cwd=ROOT, env=env)
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - start
        child.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        stderr = err.read()
    if child.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed:\n{stderr[-2000:]}")
    said = stderr.strip().splitlines()[-1] if stderr.strip() else ""
    return wall, usage.ru_maxrss / 1024, said


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    cache = tempfile.mkdtemp(prefix="lssat-cli-bench-")
    env = {**os.environ, "LSSAT_CACHE_DIR": cache, "HF_HUB_OFFLINE": "1"}
    study_out = str(Path(cache) / "study")
    lssat = [sys.executable, "-c", PROBE]
    commands = {
        "lssat --help": [*lssat, "--help"],
        "lssat plugins": [*lssat, "plugins"],
        "lssat list descriptor": [*lssat, "list", "descriptor"],
        "lssat list backbone 'vit_*'": [*lssat, "list", "backbone", "vit_*"],
        "lssat validate quickstart": [*lssat, "validate", "quickstart"],
        "lssat validate study (45 variants)": [*lssat, "validate", "study"],
        "lssat sweep study --status": [*lssat, "sweep", "study", "--status", "--out", study_out],
    }
    references = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "python -c 'import torch, timm'": [sys.executable, "-c", "import torch, timm"],
        "lssat validate --build (builds the parts)": [*lssat, "validate", "quickstart", "--build"],
    }
    measure([*lssat, "list", "backbone", "resnet18"], env)  # fills the timm name cache, as a first listing does
    print(f"{'command':<48} {'wall s':>7} {'peak MB':>8}  torch")
    for group in (commands, references):
        for label, argv in group.items():
            walls, peaks, said = [], [], ""
            for _ in range(args.repeat):
                wall, peak, said = measure(argv, env)
                walls.append(wall)
                peaks.append(peak)
            peak = max(peaks)
            goal = "" if group is references else ("  within goal" if min(walls) < GOAL_SECONDS and peak < GOAL_MB else "  over goal")
            print(f"{label:<48} {min(walls):7.2f} {peak:8.0f}  {said or '-'}{goal}")
        print()
    print(f"goal for commands that build no model: under {GOAL_SECONDS} s and {GOAL_MB} MB (fastest of {args.repeat} runs, largest peak)")


if __name__ == "__main__":
    main()
