"""Many videos at once: one video at a time per worker process, each with its own detector and
landmarker (they are not shared across processes); a worker that dies fails its video alone."""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any, Generator, Iterator

from .extract import Settings, extract

_finder = None


def start_worker(settings: Settings, threads: int | None = None) -> None:
    """A worker's initializer: its own detector and landmarker, built once. ``threads``: the
    OpenMP threads it may use (the cascade searches in parallel), so that N workers do not each
    start one thread per core."""
    if threads is not None:
        os.environ.setdefault("OMP_NUM_THREADS", str(threads))  # read when the detector's library loads
    global _finder
    _finder = settings.finder()


def _failed(settings: Settings, error: str) -> dict[str, Any]:
    return {"status": "failed", "frames": settings.frames, "written": 0, "faces": 0, "video_frames": 0, "error": error}


def work(video: Path, out: Path, settings: Settings) -> dict[str, Any]:
    try:
        return extract(video, out, settings, _finder)
    except Exception as exc:  # anything else one video raises is that video's failure, not the run's
        return _failed(settings, f"{type(exc).__name__}: {exc}")


Job = tuple[Path, Path]
def run_jobs(jobs: list[Job], settings: Settings, workers: int) -> Iterator[tuple[Path, dict[str, Any]]]:
    """(video, record) of every job, as they finish: in this process for one worker, else in a
    pool of spawned processes (safe wherever fork is not). A worker that dies (a crash in the
    decoder or the detector) takes its pool down: the videos then in flight are run again one by
    one, each in a pool of its own, so that only the one that kills its worker again fails."""
    if workers <= 1 or len(jobs) <= 1:
        start_worker(settings)
        for video, out in jobs:
            yield video, work(video, out, settings)
        return
    queue = deque(jobs)
    while queue:
        in_flight = yield from _pool_run(queue, settings, workers)
        for job in in_flight:
            if (yield from _pool_run(deque([job]), settings, 1)):
                yield job[0], _failed(settings, "the worker process died on this video (a crash in the decoder or the detector)")


def _pool_run(queue: deque[Job], settings: Settings, processes: int) -> Generator[tuple[Path, dict[str, Any]], None, list[Job]]:
    """Run the queued jobs in one pool, at most two per process in flight, yielding their results;
    returns the jobs in flight when a worker died (the rest stay queued), else none."""
    processes = min(processes, len(queue))
    threads = max(1, (os.cpu_count() or 1) // processes)
    pool = ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("spawn"), initializer=start_worker, initargs=(settings, threads))
    futures: dict[Any, Job] = {}
    try:
        while queue or futures:
            while queue and len(futures) < 2 * processes:
                job = queue.popleft()
                futures[pool.submit(work, *job, settings)] = job
            done, _ = wait(futures, return_when=FIRST_COMPLETED)
            for future in done:
                record = future.result()  # raises for every job in flight when a worker died
                yield futures.pop(future)[0], record
    except BrokenProcessPool:
        pool.shutdown(wait=False, cancel_futures=True)
        return list(futures.values())
    except BaseException:  # Ctrl-C or the caller stopped: the queued videos are not started
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()
    return []


