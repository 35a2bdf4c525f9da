"""``run_sweep``: expand the grid, refuse stale results, check before the queue, hand the
unfinished variants to a launcher, and rebuild the shared files from the variants' own."""

from __future__ import annotations

import functools
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from ..errors import LssatError
from ..files.safe import UnsafePathError, is_inside, refuse_symlinks, remove_tree
from ..declared import task_headline
from ..spec.changes import describe_differences, resolved_view, spec_differences
from ..spec.resolved import ResolvedSpec
from .grid import Variant, axis_kinds, expand, pick
from .state import ENDED_WITHOUT_RESULT, JOB_FILE, MANIFEST_FILE, STATES, SUBMISSION_FILE, check_inside, forget_job, is_main_process, read_json, record_submission, write_manifest
from .worker import VariantJob, live_writer, run_variant

#: where submitit keeps its job scripts, pickles and logs, inside the sweep folder
SUBMITIT_FOLDER = ".submitit"


def default_out(resolved: ResolvedSpec) -> Path:
    return Path("runs") / resolved.spec.name


def variant_from_environment() -> str:
    """``--variant auto``: the array index a scheduler gives this job."""
    for name in ("SLURM_ARRAY_TASK_ID", "JOB_COMPLETION_INDEX", "PBS_ARRAY_INDEX", "PBS_ARRAYID", "SGE_TASK_ID", "LSB_JOBINDEX"):
        if os.environ.get(name, "").strip():
            value = os.environ[name].strip()
            # SGE and LSF count array elements from 1
            return str(int(value) - 1) if name in ("SGE_TASK_ID", "LSB_JOBINDEX") else value
    raise LssatError(
        "--variant auto: no array index in the environment (SLURM_ARRAY_TASK_ID, JOB_COMPLETION_INDEX, PBS_ARRAY_INDEX, "
        "SGE_TASK_ID or LSB_JOBINDEX); give the index or name instead, e.g. --variant 0"
    )


def manifest(resolved: ResolvedSpec, variants: list[Variant]) -> dict[str, Any]:
    """The grid as launched: what status and collection need, without the spec file."""
    headlines: dict[str, tuple[str, bool]] = {}
    entries = []
    for index, variant in enumerate(variants):
        section = json.dumps(variant.resolved.raw.get("task"), sort_keys=True, default=str)
        if section not in headlines:
            headlines[section] = task_headline(variant.resolved.components["task"])
        headline, higher = headlines[section]
        entries.append({"index": index, "name": variant.name, "choice": variant.choice, "headline": headline,
                        "higher_is_better": higher, "raw": variant.resolved.raw})
    return {"name": resolved.spec.name, "source": resolved.source, "axes": axis_kinds(resolved), "variants": entries}


def refuse_links(out_dir: Path) -> None:
    """:func:`~lssat_framework.files.safe.refuse_symlinks` over an existing sweep folder, except the
    links submitit makes itself: ``.submitit/.submission_file_<id>.sh``, each to a job's script there."""
    submitit = out_dir / SUBMITIT_FOLDER
    entries = [*out_dir.iterdir()] if out_dir.is_dir() else []  # --out itself may be a link the user made
    entries += [*submitit.iterdir()] if submitit.is_dir() and not submitit.is_symlink() else []
    for entry in entries:
        if entry == submitit and not entry.is_symlink():
            continue  # its entries are in the list
        submitits_own = entry.parent == submitit and entry.name.startswith(".submission_file_") and is_inside(submitit, entry)
        if entry.is_symlink() and not submitits_own:
            raise UnsafePathError(f"{entry} is a symlink (to {os.readlink(entry)}); a sweep never follows a link in its folder "
                                  f"{out_dir}. Remove the link, or choose another --out")
        refuse_symlinks(entry)  # a folder's contents (nothing for a file)


def refuse_stale(out_dir: Path, chosen: list[tuple[int, Variant]], rerun_changed: bool) -> None:
    """A variant counts as finished (or resumable) only if its stored spec is the one asked for
    now: say which keys differ and refuse, or with ``rerun_changed`` delete its old results."""
    views = {v.name: resolved_view(v.resolved) for _, v in chosen}
    stale = {v.name: keys for _, v in chosen if (keys := spec_differences(out_dir / v.name, v.resolved.raw, views[v.name]))}
    if not stale:
        return
    if not rerun_changed:
        raw_of = {v.name: v.resolved.raw for _, v in chosen}
        shown = [f"  {name}: {describe_differences(out_dir / name, raw_of[name], keys, views[name])}" for name, keys in list(stale.items())[:5]]
        more = [f"  ... and {len(stale) - 5} more"] if len(stale) > 5 else []
        raise LssatError(
            "\n".join([f"{out_dir}: {len(stale)} variants were run with a different spec; their results would be stale:", *shown, *more,
                       "Pass --rerun-changed to delete their results and run them again, or choose another --out."])
        )
    if is_main_process():
        refuse_live_writers(out_dir, list(stale))
        for name in stale:
            print(f"{name}: the spec changed ({', '.join(stale[name][:5])}); its old results are deleted (--rerun-changed)")
            remove_tree(out_dir / name, out_dir)


def refuse_live_writers(out_dir: Path, names: list[str]) -> None:
    """``--rerun-changed`` deletes nothing a live process writes: name the variants and their writers."""
    held = [(name, holder) for name in names if (holder := live_writer(out_dir / name)) is not None]
    if held:
        listed = "\n".join(f"  {name}: host {holder.get('host')}, pid {holder.get('pid')}" for name, holder in held)
        raise LssatError(f"--rerun-changed: a live process writes {'these variants' if len(held) > 1 else 'this variant'}, "
                         f"so nothing was deleted:\n{listed}\nWait for it to end, or stop it, then run again")


def is_done(run_dir: Path) -> bool:
    return (run_dir / "summary.json").is_file()


def say(index: int, name: str, what: str) -> None:
    """A line of the launcher's progress, ``[index] name: what``; said by the main process alone
    (an inline sweep under torchrun says it once, not once per process)."""
    if is_main_process():
        print(f"[{index}] {name}: {what}", flush=True)


class Progress:
    """What the launcher reports, printed and recorded in each variant's ``submission.json``."""

    def __init__(self, out_dir: Path, launcher: str, positions: dict[str, int]):
        self.out_dir, self.launcher, self.positions = out_dir, launcher, positions
        self.failures: dict[str, str] = {}

    def say(self, name: str, what: str) -> None:
        say(self.positions[name], name, what)

    def on_submit(self, item, job_id: str | None) -> None:
        if self.launcher != "inline" and is_main_process():
            record_submission(self.out_dir / item.name, self.launcher, job_id)
        resumed = (self.out_dir / item.name / "checkpoints").exists()
        self.say(item.name, ("resuming" if resumed else "starting") + (f" as job {job_id}" if job_id else ""))

    def on_end(self, item, error: str | None) -> None:
        if error is None:
            self.say(item.name, "done")
            return
        run_dir = self.out_dir / item.name
        job = read_json(run_dir / JOB_FILE) or {}
        if job.get("state") != "failed" and self.launcher != "inline" and is_main_process():
            # the job ended without a word of its own (killed): the launcher records why
            record_submission(run_dir, self.launcher, (read_json(run_dir / SUBMISSION_FILE) or {}).get("job_id"), ended=error)
        self.failures[item.name] = (job.get("error") if job.get("state") == "failed" else None) or error
        self.say(item.name, f"failed: {self.failures[item.name]}")


def _launch_items(resolved: ResolvedSpec, out_dir: Path, chosen: list[tuple[int, Variant]], inline: bool, collect_into: str | None):
    """The unfinished variants as launch items (finished ones are said and skipped)."""
    from .launchers import LaunchItem

    items, positions = [], {}
    for index, v in chosen:
        run_dir = out_dir / v.name
        if is_done(run_dir):
            say(index, v.name, "finished, skipped")
            continue
        holder = live_writer(run_dir)
        if holder is not None:  # another launcher's job trains it now: never twice
            say(index, v.name, f"being written by host {holder.get('host')}, pid {holder.get('pid')}; skipped")
            continue
        if is_main_process():
            forget_job(run_dir)
        job = functools.partial(run_variant, v.resolved, run_dir) if inline else VariantJob(v.resolved.raw, resolved.source, str(run_dir), collect_into)
        items.append(LaunchItem(v.name, job))
        positions[v.name] = index
    return items, positions


def run_sweep(
    resolved: ResolvedSpec,
    out: str | Path | None = None,
    launcher: str = "inline",
    parallel: int | None = None,
    variant: str | None = None,
    rerun_changed: bool = False,
    check_data: bool = True,
    wait: bool = False,
) -> dict[str, Any]:
    """Run every unfinished variant (or only ``variant``: an index, a name or ``auto``) through
    ``launcher``; a started variant resumes from its checkpoint. Raises :class:`LssatError`
    naming the variants that failed, after the others finished and the leaderboard was written.
    A launcher that submits and returns (Slurm) returns at once, unless ``wait``."""
    from .launchers import make_launcher

    out_dir = Path(out) if out else default_out(resolved)
    variants = expand(resolved)
    check_inside(out_dir, [v.name for v in variants])
    refuse_links(out_dir)  # an existing folder: nothing in it may send a write or delete elsewhere
    if parallel is not None and parallel < 1:
        raise LssatError(f"--parallel: at least 1 variant at a time, got {parallel}")
    settings = resolved.spec.launcher.model_copy(update={"parallel": parallel} if parallel else {})
    if variant is not None:  # one variant, in this process (a scheduler's array job)
        index = pick(variants, variant_from_environment() if variant == "auto" else variant)
        chosen, launcher = [(index, variants[index])], "inline"
    else:
        chosen = list(enumerate(variants))
    refuse_stale(out_dir, chosen, rerun_changed)
    runner = make_launcher(launcher, settings, out_dir / SUBMITIT_FOLDER, job_name=resolved.spec.name)
    runner.check()
    if variant is None:  # nothing sure to fail is queued
        from .preflight import check_before_launch

        check_before_launch([v for _, v in chosen], out_dir, data=check_data)
    if is_main_process():
        out_dir.mkdir(parents=True, exist_ok=True)
        write_manifest(out_dir, manifest(resolved, variants))

    # jobs that nobody waits for (Slurm's) rebuild the shared files themselves when they finish
    collect_into = None if runner.waits else str(out_dir)
    items, positions = _launch_items(resolved, out_dir, chosen, runner.name == "inline", collect_into)
    progress = Progress(out_dir, runner.name, positions)
    if items:
        runner.launch(items, progress.on_submit, progress.on_end)
    result = {"variants": len(variants), "launched": len(items), "out": str(out_dir)}
    follow = f"lssat sweep {resolved.source or 'SPEC'} --out {out_dir}"
    if not runner.waits and not wait:
        print(f"{len(items)} variants submitted to {runner.name}; follow them with `{follow} --status`; "
              "each job rebuilds the leaderboard when it finishes (or run --collect)")
        return result
    if not runner.waits and items:
        progress.failures = wait_for_jobs(out_dir, [item.name for item in items], follow)
    if is_main_process():
        from .collect import collect

        collect(out_dir)
    if progress.failures:
        raise failed(progress.failures, len(items))
    return result


def failed(failures: dict[str, str], launched: int) -> LssatError:
    listed = "\n".join(f"  {name}: {message}" for name, message in failures.items())
    return LssatError(f"{len(failures)} of {launched} variants failed (the others finished; `--status` shows them):\n{listed}")


#: seconds between two looks at the jobs of ``--wait`` (each look asks sacct once)
WAIT_POLL_S = 2.0


def wait_for_jobs(out_dir: Path, names: list[str], follow: str, poll_s: float = WAIT_POLL_S) -> dict[str, str]:
    """``--wait``: stay until every variant of ``names`` has ended, with a bar of the variants
    done, running, pending and failed, and a line for each change of state; return the variants
    that ended without a result (name -> why). Ctrl-C stops the waiting, never the jobs."""
    from tqdm import tqdm

    from .collect import statuses

    manifest = read_json(out_dir / MANIFEST_FILE) or {}
    watched = {**manifest, "variants": [v for v in manifest.get("variants", []) if v["name"] in names]}
    bar, seen = tqdm(total=len(watched["variants"]), unit="variant", desc="done", dynamic_ncols=True), {}
    try:
        while True:
            states = statuses(out_dir, watched)
            for status in states:
                if seen.setdefault(status.name, "pending") != status.state:
                    seen[status.name] = status.state
                    bar.write(f"[{status.index}] {status.name}: {status.state}" + (f": {status.error}" if status.error else ""))
            count = {state: sum(s.state == state for s in states) for state in STATES}
            unfinished = sum(count[state] for state in ENDED_WITHOUT_RESULT)
            bar.n = ended = count["done"] + count["stale"] + unfinished
            bar.set_postfix_str(f"{count['running'] + count['requeued']} running, {count['pending']} pending, {unfinished} failed", refresh=True)
            if ended == len(states):
                break
            time.sleep(poll_s)
    except KeyboardInterrupt:
        bar.close()
        arrays = sorted({str(job).split("_")[0] for name in names if (job := (read_json(out_dir / name / SUBMISSION_FILE) or {}).get("job_id"))})
        print(f"lssat: stopped waiting; the jobs go on. Follow them with `{follow} --status`"
              + (f", cancel them with `scancel {' '.join(arrays)}`" if arrays else ""), file=sys.stderr)
        raise
    bar.close()
    return {s.name: s.error or s.state for s in states if s.state in ENDED_WITHOUT_RESULT}
