"""`lssat predict` decodes a video as a stream: its peak memory does not grow with the video's
length. One fresh process predicts a 40-frame video, then a 240-frame one: the high-water mark of
its resident memory, read after each, must not rise by more than a tenth (the 240 frames would add
211 MiB if they were all held)."""

import os
import subprocess
import sys

from predict_media import make_video, train_run

MEASURE = """
import resource, sys
from lssat_framework import cli
run, out = sys.argv[1], sys.argv[2]
for index, video in enumerate(sys.argv[3:]):
    code = cli.main(["predict", run, video, "--out", f"{out}/{index}"])
    print("peak_kib", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, "exit", code)
"""


def peaks_after_each(run, videos, out) -> list[int]:
    done = subprocess.run([sys.executable, "-c", MEASURE, str(run), str(out), *map(str, videos)],
                          capture_output=True, text=True, timeout=300, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    lines = [line.split() for line in done.stdout.splitlines() if line.startswith("peak_kib")]
    assert len(lines) == len(videos) and all(line[-1] == "0" for line in lines), done.stdout + done.stderr
    return [int(line[1]) for line in lines]


def test_peak_memory_is_flat_in_the_videos_length(tmp_path):
    run = train_run(tmp_path)
    short = make_video(tmp_path / "short.mp4", frames=40, size=(640, 480))
    long = make_video(tmp_path / "long.mp4", frames=240, size=(640, 480))
    short_peak, long_peak = peaks_after_each(run, [short, long], tmp_path / "out")
    assert long_peak - short_peak <= 0.10 * short_peak, (short_peak, long_peak)
