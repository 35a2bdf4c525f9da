"""``lssat predict`` on a CPU: frames/s of the whole path (decode, detect, crop, model) for one
1080p video, beside decoding alone and the model alone, with the load the machine was under.

The video: 1920×1080 H.264 at 25 fps, ``--length`` frames, scikit-image's astronaut's face moving
across a textured background (``benchmarks/prepare.py``'s video). The run: ``--run RUN``, or a tiny
run trained here first (the testing module's spec: a one-block ViT at 32 px, so the model's share
is small; a real backbone's is measured with ``--run``). The detector searches a copy of each
frame downscaled to its ``detect_height`` rows, as ``lssat prepare`` does.

    python benchmarks/predict.py [--length 250] [--frames 32] [--run RUN] [--repeats 3]
"""

from __future__ import annotations

import argparse
import copy
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from prepare import make_video  # noqa: E402 - the 1080p video prepare's benchmark makes


def best_time(work, repeats: int) -> float:
    """The shortest of ``repeats`` runs of ``work()`` in seconds (the least disturbed by other load)."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


def tiny_run(folder: Path) -> Path:
    from lssat_framework.testing import TINY_SPEC, train_tiny

    spec = copy.deepcopy(TINY_SPEC)
    spec["train"]["recon_grid"] = False
    train_tiny(spec, folder)
    return folder / "run"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--length", type=int, default=250, help="frames in the video")
    parser.add_argument("--frames", type=int, default=32, help="frames sampled per video (--frames of lssat predict)")
    parser.add_argument("--run", help="a finished run (default: a tiny one trained here)")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch
    from lssat_datasets.video import sample_frames

    from lssat_framework.predict.answers import answer_file
    from lssat_framework.predict.job import find_reader
    from lssat_framework.predict.loaded import load_run

    with tempfile.TemporaryDirectory() as folder:
        video = Path(folder) / "clip.mp4"
        make_video(video, args.length)
        run = load_run(args.run or tiny_run(Path(folder)))
        reader = find_reader(None)
        settings = reader.settings(run.info.preparation, {"frames": args.frames})
        sampled = sample_frames(video, args.frames, settings["sampling"])
        count = len(sampled.frames)
        crops = [crop.image for crop in reader.read(video, settings).crops]
        whole = best_time(lambda: answer_file(run, reader, video, settings, 0.5), args.repeats)
        decode = best_time(lambda: sample_frames(video, args.frames, settings["sampling"]), args.repeats)
        model = best_time(lambda: [run.scores(crops[i : i + run.batch_size]) for i in range(0, len(crops), run.batch_size)], args.repeats)
    print(f"video: 1920x1080, {args.length} frames, {count} sampled; detector {settings['detector']}, crops {settings['size']} px, "
          f"model input {run.image_size} px, batches of {run.batch_size}")
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}, torch threads {torch.get_num_threads()}")
    print(f"whole path (decode, detect, crop, model): {count / whole:7.1f} sampled frames/s ({whole:.2f} s per video)")
    print(f"decoding alone:                           {count / decode:7.1f} sampled frames/s ({args.length / decode:.0f} video frames/s decoded)")
    print(f"model alone:                              {count / model:7.1f} frames/s")


if __name__ == "__main__":
    main()
