"""The study's three questions answered from the tasks' comparisons (:mod:`.compare`), in words.

1. How much does the backbone matter, per task? The spread between the best and the worst
   backbone, and which backbones are separably behind the best.
2. Which backbone is best for each task? A backbone is named best only where its paired
   difference to every other backbone excludes 0; otherwise the answer says "not separable at
   this size". One backbone alone has nothing to compare with.
3. Is one backbone best, or near-best, on all tasks?

Every task says which weights and split its figures come from and what it left out (settings or
seeds some backbone lacks, backbones without results); a figure on fewer than
:data:`~.records.MIN_EVALUATED` samples (videos) carries a warning beside it, and a backbone whose
interval includes chance is flagged.
"""

from __future__ import annotations

from .plots import _plain_log_axis  # noqa: F401 - the plots lived here
from .records import MIN_EVALUATED, Comparison

READING = (
    "Scores are each task's headline metric on the validation split, from the weights each run reports (its best "
    "checkpoint, at the epoch named), averaged over the settings and seeds that every compared backbone finished; a "
    "setting or seed some backbone lacks is left out for all and named (incomplete). The 95 % intervals come from a "
    "paired, hierarchical bootstrap: each draw resamples the validation samples (whole videos where the task has them) "
    "once for all variants of the task, and the seeds of each setting, and computes every backbone's mean and every "
    "difference between backbones inside the draw. A backbone is ahead of another only where the interval of their "
    "paired difference excludes 0; 'not separable at this size' and 'tied' mean it includes 0. 'At chance level': "
    "the interval includes what a model that learned nothing scores (0.5 for AUC, the majority's share for accuracy). "
    "With one seed per setting, an interval covers the sampling of the validation set, not the training's randomness. "
    f"⚠ marks a figure resting on fewer than {MIN_EVALUATED} evaluated samples (videos where the task has them)."
)


def _difference(comparison: Comparison) -> str:
    return "paired difference" if comparison.paired else "difference"


def _chance_flag(comparison: Comparison) -> str:
    flagged = [f"{b} ({cell.chance:.3f})" for b, cell in comparison.cells.items() if cell.includes_chance()]
    return f" At chance level (interval includes chance): {', '.join(flagged)}." if flagged else ""


def _alone(comparison: Comparison) -> str:
    (backbone, cell), = comparison.cells.items()
    others = f"; no result from {', '.join(comparison.absent)}" if comparison.absent else ""
    return f"nothing to compare: only **{backbone}** has results{others}. {backbone} {cell.shown()}"


def _no_ground(comparison: Comparison) -> str:
    return f"- {comparison.task}: no common ground: no setting and seed that every backbone finished; nothing compared."


def _question_1(comparison: Comparison) -> str:
    order, cells = comparison.order, comparison.cells
    if not order:
        return _no_ground(comparison)
    chance = next((f" Chance: {c.chance:.3f}." for c in cells.values() if c.chance is not None), "")
    if len(order) == 1:
        return f"- {comparison.task}: nothing to compare (only {order[0]} has results).{chance}"
    top, bottom = order[0], order[-1]
    spread = abs(cells[top].value - cells[bottom].value) * 100
    behind = [b for b in order[1:] if comparison.ahead(top, b)]
    if behind:
        verdict = f"{', '.join(behind)} {'is' if len(behind) == 1 else 'are'} separably behind {top}"
    else:
        verdict = f"the backbones are not separable at this size (no {_difference(comparison)} to {top} excludes 0)"
    difference = comparison.differences[(top, bottom)].shown()
    return (f"- {comparison.task}: the backbones span {spread:.1f} points ({len(order)} backbones; {top} − {bottom}: "
            f"{difference}); {verdict}.{chance}")


def _question_2(comparison: Comparison) -> list[str]:
    order, cells = comparison.order, comparison.cells
    if not order:
        return [_no_ground(comparison), *_left_out(comparison)]
    if len(order) == 1:
        line = f"- {comparison.task}: {_alone(comparison)}."
    elif comparison.clear_best():
        top, runner = order[0], order[1]
        share = comparison.best_share.get(top)
        best_in = f"; best in {share * 100:.0f} % of the draws" if share is not None and share == share else ""
        line = (f"- {comparison.task}: **{top}** {cells[top].shown()}, ahead of the runner-up {runner} {cells[runner].shown()} "
                f"({_difference(comparison)} {comparison.differences[(top, runner)].shown()} excludes 0{best_in}).")
    else:
        tied = [b for b in order if not comparison.ahead(order[0], b)]
        listed = "; ".join(f"{b} {cells[b].shown()}" for b in tied)
        behind = [b for b in order if b not in tied]
        after = f"; behind: {', '.join(behind)}" if behind else ""
        gap = comparison.differences[(order[0], order[1])]
        line = f"- {comparison.task}: not separable at this size: {listed} ({order[0]} − {order[1]}: {gap.shown()}, {gap.verdict()}){after}."
    weights = "; ".join(dict.fromkeys(cell.weights() for cell in cells.values()))
    return [line + _chance_flag(comparison) + f" Figures: {weights}.", *_left_out(comparison)]


def _ground(comparison: Comparison) -> str:
    parts = []
    for setting, seeds in comparison.ground.items():
        named = [str(s) for s in seeds if s is not None]
        parts.append((f"setting {setting}" if setting else "the one setting") + (f" (seeds {', '.join(named)})" if named else ""))
    return "; ".join(parts)


def _left_out(comparison: Comparison) -> list[str]:
    lines = []
    if comparison.incomplete:
        over = f"compared over {_ground(comparison)} only" if comparison.ground else "nothing compared"
        lines.append(f"  - incomplete: {over}; left out: {'; '.join(comparison.incomplete)}")
    if comparison.absent and len(comparison.cells) > 1:
        lines.append(f"  - no result at all from {', '.join(comparison.absent)}")
    lines += [f"  - note: {note}" for note in comparison.notes]
    return lines


def _verdict_3(comparisons: list[Comparison], everywhere: list[str], standing: dict[str, dict[str, str]], gaps: dict[str, float]) -> str:
    alone = [c.task for c in comparisons if len(c.cells) <= 1]
    best_all = [b for b in everywhere if all(s in ("best", "alone") for s in standing[b].values())]
    tied_all = [b for b in everywhere if all(s != "behind" for s in standing[b].values())]
    if best_all and not alone:
        return f"- Yes: **{best_all[0]}** is the best on every task, separably ahead of every other backbone (differences exclude 0)."
    if best_all:
        return (f"- Not decided: **{best_all[0]}** is the best on every task where backbones were compared, but "
                f"{', '.join(alone)} had only one backbone with results (nothing to compare).")
    if tied_all:
        names = ", ".join(f"**{b}**" for b in tied_all)
        return f"- Not decided at this size: {names} {'is' if len(tied_all) == 1 else 'are'} the best or not separable from the best on every task."
    steady = min(everywhere, key=gaps.get)
    behind = [t for t, s in standing[steady].items() if s == "behind"]
    return (f"- No: every backbone is separably behind the best on some task; the most consistent, **{steady}**, is up to "
            f"{gaps[steady]:.1f} points behind (on {', '.join(behind)}).")


def _question_3(comparisons: list[Comparison]) -> list[str]:
    if all(len(c.cells) <= 1 for c in comparisons):
        return ["- Nothing to compare: no task has results from two backbones on common ground."]
    backbones = sorted({b for c in comparisons for b in c.cells})
    everywhere = [b for b in backbones if all(b in c.cells for c in comparisons)]
    if not everywhere:
        return ["- No backbone has results on every task."]
    standing = {b: {c.task: c.standing(b) for c in comparisons} for b in everywhere}
    gaps = {b: max(abs(c.cells[c.order[0]].value - c.cells[b].value) * 100 for c in comparisons) for b in everywhere}
    tasks = [c.task for c in comparisons]
    lines = [_verdict_3(comparisons, everywhere, standing, gaps), "",
             "| backbone | largest gap to the best (points) | " + " | ".join(tasks) + " |", "|---|---|" + "---|" * len(tasks)]
    for b in sorted(everywhere, key=gaps.get):
        lines.append(f"| {b} | {gaps[b]:.1f} | " + " | ".join(standing[b][t] for t in tasks) + " |")
    return lines


def answers(comparisons: list[Comparison], missing: list[str]) -> str:
    lines = ["# What the sweep answers", ""]
    if not comparisons:
        lines += ["No variant has finished yet.", ""]
    else:
        lines += ["## 1. How much does the backbone matter, per task?", "", *map(_question_1, comparisons), ""]
        lines += ["## 2. Which backbone is best for each task?", "", *[line for c in comparisons for line in _question_2(c)], ""]
        lines += ["## 3. Is one backbone best, or near-best, on all tasks?", "", *_question_3(comparisons), ""]
    if missing:
        have = "1 variant has" if len(missing) == 1 else f"{len(missing)} variants have"
        lines += ["## Not in these answers", "", f"{have} no result:", *[f"- {m}" for m in missing], ""]
    lines += ["## How to read it", "", READING, ""]
    return "\n".join(lines)
