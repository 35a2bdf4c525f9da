"""`lssat predict` decodes a video as a stream: its peak memory does not grow with the video's
length (a 400-frame video against a 40-frame one, each predicted in a process of its own)."""

import os
import subprocess
import sys

from predict_media import make_video, train_run

MEASURE = """
import resource, sys
from lssat_framework import cli
code = cli.main(["predict", *sys.argv[1:]])
print("peak_kib", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, "exit", code)
"""


def peak_rss(run, video, out) -> int:
    done = subprocess.run([sys.executable, "-c", MEASURE, str(run), str(video), "--out", str(out)],
                          capture_output=True, text=True, timeout=300, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    last = done.stdout.strip().splitlines()[-1].split()
    assert last[0] == "peak_kib" and last[-1] == "0", done.stdout + done.stderr
    return int(last[1])


def test_peak_memory_is_flat_in_the_videos_length(tmp_path):
    run = train_run(tmp_path)
    short = make_video(tmp_path / "short.mp4", frames=40, size=(640, 480))
    long = make_video(tmp_path / "long.mp4", frames=400, size=(640, 480))  # 400 decoded frames: 350 MiB if all were held
    short_peak, long_peak = peak_rss(run, short, tmp_path / "a"), peak_rss(run, long, tmp_path / "b")
    assert abs(long_peak - short_peak) <= 0.10 * short_peak, (short_peak, long_peak)
