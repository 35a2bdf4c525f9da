"""Time of the video bootstrap interval at the end of a run: 2000 videos × 32 frames, 500 draws
of the deepfake task's metrics (the run's ``final_interval``), beside the time of one draw's
metrics alone (the floor: a draw cannot cost less than scoring it).

    python benchmarks/bootstrap.py [--videos 2000] [--frames 32] [--resamples 500]
"""

from __future__ import annotations

import argparse
import time

import torch

import lssat_framework as lssat
from lssat_framework.interfaces import DatasetInfo, LabelInfo
from lssat_framework.train.evaluation import Evaluation, bootstrap_interval


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--videos", type=int, default=2000)
    parser.add_argument("--frames", type=int, default=32)
    parser.add_argument("--resamples", type=int, default=500)
    args = parser.parse_args()
    generator = torch.Generator().manual_seed(0)
    video = torch.arange(args.videos).repeat_interleave(args.frames)
    fake = (torch.rand(args.videos, generator=generator) < 0.8).long()[video]
    logits = (fake * 1.0 + torch.randn(len(video), generator=generator)).unsqueeze(-1)
    task = lssat.create("task", "deepfake")
    task.bind(DatasetInfo(labels={"fake": LabelInfo("binary", ["real", "fake"])}, image_size=(64, 64), videos=True))
    evaluation = Evaluation({}, logits, fake, {"video": video, "groups": {}})
    start = time.perf_counter()
    task.metrics(logits, fake, evaluation.extras)
    one = time.perf_counter() - start
    start = time.perf_counter()
    interval = bootstrap_interval(task, evaluation, "video_auc", resamples=args.resamples)
    total = time.perf_counter() - start
    print(f"{args.videos} videos × {args.frames} frames, {args.resamples} draws: {total:.1f} s "
          f"({total / args.resamples * 1000:.1f} ms a draw; scoring alone {one * 1000:.1f} ms) -> {interval}")


if __name__ == "__main__":
    main()
