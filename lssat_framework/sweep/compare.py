"""The backbones of each task compared on equal ground, with paired intervals.

A task's backbones are compared only over the settings and seeds that every one of them finished
(its ground); a setting or seed that some backbone lacks is left out for all of them and named
(``incomplete``), never averaged away. A backbone without any result is named too (``absent``);
one backbone alone has nothing to compare with.

Each backbone's cell is its mean over the ground (each setting the mean of its seeds), with the
95 % interval of the paired, hierarchical bootstrap (:mod:`.paired`, :mod:`.scoring`). The
differences between backbones come from the same draws: a backbone is ahead of another only where
the interval of their paired difference excludes 0; otherwise they are not separable. Where a run's
per-sample outputs cannot be scored again (older runs, the final weights reported) the task falls
back to the runs' own intervals, combined conservatively, and says so.
"""


from __future__ import annotations

import statistics

from .records import Comparison, Run


def compare(runs: list[Run], draws: int | None = None, seed: int = 0) -> list[Comparison]:
    """Each task's comparison, tasks in the order they first appear."""
    from . import paired

    tasks: dict[str, list[Run]] = {}
    for run in runs:
        tasks.setdefault(run.task, []).append(run)
    found = [_compare_task(task, members, draws or paired.DRAWS, seed) for task, members in tasks.items()]
    return [comparison for comparison in found if comparison is not None]


def _compare_task(task: str, runs: list[Run], draws: int, seed: int) -> Comparison | None:
    done = [r for r in runs if r.done]
    if not done:
        return None
    backbones = sorted({r.backbone for r in done})
    absent = sorted({r.backbone for r in runs} - set(backbones))
    ground, incomplete = equal_ground(runs, backbones)
    chosen = [r for r in done if r.seed in ground.get(r.setting, ())]
    comparison = Comparison(task, done[0].higher_is_better, {}, ground=ground, incomplete=incomplete)
    comparison.absent = [f"{b} ({', '.join(sorted({r.why_missing() for r in runs if r.backbone == b}))})" for b in absent]
    if not chosen:  # no setting and seed that every backbone finished: nothing to put side by side
        return comparison
    from .intervals import fill_fallback, fill_paired

    reasons = fill_paired(comparison, chosen, backbones, draws, seed)
    if reasons:
        fill_fallback(comparison, chosen, backbones, reasons)
    for b, cell in comparison.cells.items():
        cell.seeds, cell.std = _seed_spread([r for r in chosen if r.backbone == b])
    return comparison


def equal_ground(runs: list[Run], backbones: list[str]) -> tuple[dict[str, list], list[str]]:
    """The settings and seeds every backbone of ``backbones`` finished (setting -> seeds), and a
    sentence for each setting and seed left out, naming the backbones that lack it."""
    combos = list(dict.fromkeys((r.setting, r.seed) for r in runs))
    finished = {b: {(r.setting, r.seed) for r in runs if r.backbone == b and r.done} for b in backbones}
    ground: dict[str, list] = {}
    incomplete = []
    for setting, seed in combos:
        lacking = [b for b in backbones if (setting, seed) not in finished[b]]
        if not lacking:
            ground.setdefault(setting, []).append(seed)
            continue
        states = {b: "; ".join(r.why_missing() for r in runs if r.backbone == b and (r.setting, r.seed) == (setting, seed)) or "not in the grid"
                  for b in lacking}
        incomplete.append(f"{where(setting, seed)}: no result from {', '.join(f'{b} ({s})' for b, s in states.items())}")
    return ground, incomplete


def where(setting: str, seed: str | None) -> str:
    parts = ([f"setting {setting}"] if setting else []) + ([f"seed {seed}"] if seed is not None else [])
    return ", ".join(parts) or "the one variant"


def _seed_spread(runs: list[Run]) -> tuple[int, float | None]:
    seeds = list(dict.fromkeys(r.seed for r in runs if r.seed is not None))
    if len(seeds) < 2:
        return len(seeds), None
    per_seed = [statistics.fmean(r.value for r in runs if r.seed == s) for s in seeds]
    return len(seeds), statistics.stdev(per_seed)
