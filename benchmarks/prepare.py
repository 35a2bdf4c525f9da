"""Frame preparation at real scale: frames/s and peak memory of ``lssat prepare`` with 1 and 2
workers on generated 1080p videos, on the default path (the LBP cascade, steady square crops) and
on ``--profile deepfakebench``'s (dlib's HOG detector and 68 landmarks, aligned crops; needs the
faces extra), beside the previous approach (every frame decoded into a list, then N picked; one
process).

The videos: 1920×1080 H.264 at 25 fps, ``--length`` frames each, a scikit-image photograph's face
(about 110 px wide, 10 % of the frame's height) moving across a textured background. Each
configuration runs in its own process, so that its peak resident memory (``ru_maxrss``) is its
own: for the workers, the largest worker's peak (``VmHWM``, sampled while they run; Linux) beside
the main process's. ``in crops``: the crops written in which the LBP cascade, run on the crops
themselves, finds a face (a crop that cuts the face or shows it small fails).

    python benchmarks/prepare.py [--videos 4] [--length 400] [--frames 32] [--no-previous]
    python benchmarks/prepare.py --detectors      # each face detector on photographs in 1080p frames
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

WIDTH, HEIGHT = 1920, 1080


def make_video(path: Path, length: int) -> None:
    import av
    from skimage import data

    head = data.astronaut()[50:215, 145:310]  # the face is about 110 px wide in the photo
    rng = np.random.default_rng(0)
    rows, columns = np.mgrid[0:HEIGHT, 0:WIDTH]
    background = np.stack([60 + 100 * columns / WIDTH, 80 + 80 * rows / HEIGHT, np.full(rows.shape, 120.0)], -1)
    background = (background + rng.normal(0, 6, background.shape)).clip(0, 255).astype(np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=25, options={"preset": "ultrafast", "crf": "23"})
        stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        for index in range(length):
            frame = background.copy()
            top, left = 400 + int(100 * np.sin(index / 40)), 200 + int(1400 * index / max(length - 1, 1))
            frame[top : top + head.shape[0], left : left + head.shape[1]] = head
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def previous_approach(videos: list[Path], frames: int, size: int) -> tuple[int, int]:
    """Every frame decoded into a list, N picked by index, the cascade searched for faces of at
    least 1/8 of the frame: what ``lssat prepare ffpp`` did before it streamed."""
    import av
    from PIL import Image
    from skimage import data
    from skimage.color import rgb2gray
    from skimage.feature import Cascade

    cascade = Cascade(data.lbp_frontal_face_cascade_filename())
    written = faces = 0
    for video in videos:
        with av.open(str(video)) as container:
            every = [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]
        picked = [every[int(i)] for i in np.linspace(0, len(every) - 1, frames)]
        out = video.parent / "previous" / video.stem
        out.mkdir(parents=True, exist_ok=True)
        for index, frame in enumerate(picked):
            smallest = min(frame.shape[:2]) // 8
            found = cascade.detect_multi_scale(rgb2gray(frame), 1.2, 1, (smallest, smallest), (min(frame.shape[:2]),) * 2)
            side = min(frame.shape[:2])
            top, left = (frame.shape[0] - side) // 2, (frame.shape[1] - side) // 2
            faces += bool(found)
            if found:
                face = max(found, key=lambda d: d["width"])
                side = int(face["width"] * 1.3)
                top, left = max(face["r"] - side // 8, 0), max(face["c"] - side // 8, 0)
            Image.fromarray(frame[top : top + side, left : left + side]).resize((size, size)).save(out / f"{index:04d}.png")
            written += 1
        del every
    return written, faces


def face_in_frame(photo: np.ndarray, face: tuple[int, int, int, int], fraction: float, where: float) -> tuple[np.ndarray, tuple]:
    """A 1080p frame with ``photo`` scaled so that its ``face`` box (top, left, height, width) is
    ``fraction`` of the frame's height, at ``where`` across; and the face's box in the frame."""
    from PIL import Image

    scale = fraction * HEIGHT / face[2]
    resized = np.asarray(Image.fromarray(photo).resize((round(photo.shape[1] * scale), round(photo.shape[0] * scale)), Image.LANCZOS))
    resized = resized[:HEIGHT, :WIDTH]
    frame = np.full((HEIGHT, WIDTH, 3), 110, np.uint8)
    left = int(where * (WIDTH - resized.shape[1]))
    top = (HEIGHT - resized.shape[0]) // 2
    frame[top : top + resized.shape[0], left : left + resized.shape[1]] = resized
    return frame, (top + face[0] * scale, left + face[1] * scale, face[2] * scale, face[3] * scale)


def detector_table() -> None:
    """Each registered detector on scikit-image's photographs: faces found at 8-60 % of a 1080p
    frame's height, detections on photos without a face, and the time per frame."""
    from lssat_datasets.faces import face_detectors
    from skimage import data

    portrait, face = data.astronaut(), (80, 170, 100, 110)  # the face's box in the photograph
    no_face = [data.coffee(), data.chelsea(), data.rocket(), data.hubble_deep_field()]
    fractions = (0.08, 0.12, 0.2, 0.3, 0.45, 0.6)
    print(f"{'detector':<14} " + " ".join(f"{f:>5.0%}" for f in fractions) + f" {'no-face hits':>13} {'s/frame':>8}")
    for name, component in sorted(face_detectors().items()):
        if "/" in name:
            continue
        try:
            detector = component.resolve()(**component.validate({}))  # a lazy reference is imported here
        except Exception as exc:  # e.g. dlib not installed
            print(f"{name:<14} not available: {exc}")
            continue
        found, seconds, frames = [], 0.0, 0
        for fraction in fractions:
            hits = 0
            for where in (0.2, 0.5, 0.8):
                frame, (top, left, height, width) = face_in_frame(portrait, face, fraction, where)
                start = time.perf_counter()
                boxes = detector(frame)
                seconds, frames = seconds + time.perf_counter() - start, frames + 1
                hits += any(top <= b[0] + b[2] / 2 <= top + height and left <= b[1] + b[3] / 2 <= left + width for b in boxes)
            found.append(f"{hits}/3")
        false_hits = 0
        for photo in no_face:
            frame, _ = face_in_frame(photo, (0, 0, photo.shape[0], photo.shape[1]), 0.9, 0.5)
            start = time.perf_counter()
            false_hits += len(detector(frame))
            seconds, frames = seconds + time.perf_counter() - start, frames + 1
        print(f"{name:<14} " + " ".join(f"{f:>5}" for f in found) + f" {false_hits:>13} {seconds / frames:>8.2f}")


def _peak_mb(pid: int) -> float:
    """A process's resident-memory high-water mark since it started its program (``VmHWM``; unlike
    ``ru_maxrss`` it does not count the parent's memory a spawned child had before its exec)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def watch_children(peaks: dict[int, float], stop: threading.Event) -> None:
    """Record the peak of every child process of this one until ``stop``."""
    me = Path(f"/proc/{os.getpid()}/task/{os.getpid()}/children")
    while not stop.is_set():
        try:
            children = [int(pid) for pid in me.read_text().split()]
        except OSError:
            children = []
        for pid in children:
            peaks[pid] = max(peaks.get(pid, 0.0), _peak_mb(pid))
        stop.wait(0.2)


def settings_for(config: str, frames: int, size: int):
    """The extraction settings of one configuration: ``1``/``2`` the default path, ``aligned-N``
    the deepfakebench profile's (built through the registry, as ``lssat prepare`` builds them)."""
    from lssat_datasets.extract import Settings
    from lssat_datasets.faces import LbpCascade, face_component
    from lssat_datasets.params import PROFILES

    if not config.startswith("aligned"):
        return Settings(frames, size, LbpCascade)
    profile = PROFILES["deepfakebench"]
    detector = face_component("face_detector", profile["detector"], "--detector")
    landmarker = face_component("face_landmarker", profile["landmarker"], "--landmarker")
    return Settings(frames, size, detector.resolve(), detector.validate({}), detector=profile["detector"], align=True,
                    landmarker=profile["landmarker"], landmarker_factory=landmarker.resolve(), sampling=profile["sampling"],
                    layout=profile["layout"], profile="deepfakebench")


def run_one(config: str, root: Path, frames: int, size: int) -> dict:
    """One configuration, in this process: its time, frames written and peak memory."""
    from lssat_datasets.prepare import prepare  # both approaches run with what `lssat prepare` loads

    videos = sorted(root.rglob("videos/*.mp4"))
    peaks: dict[int, float] = {}
    stop = threading.Event()
    watcher = threading.Thread(target=watch_children, args=(peaks, stop), daemon=True)
    watcher.start()
    start = time.perf_counter()
    spread = "-"
    if config == "previous":
        written, faces = previous_approach(videos, frames, size)
    else:
        report = prepare("ffpp", root, videos, settings_for(config, frames, size), workers=int(config.split("-")[-1]))
        written, faces = report.summary()["frames_written"], report.summary()["frames_with_face"]
        spread = f"{report.summary()['largest_crop_scale_spread']:.2f}"
    seconds = time.perf_counter() - start
    stop.set()
    watcher.join()
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    workers = max(peaks.values(), default=0.0)
    return {"config": config, "seconds": seconds, "written": written, "faces": faces, "spread": spread, "main_mb": own, "worker_mb": workers,
            "in_crops": faces_in_crops(root)}


def faces_in_crops(root: Path) -> str:
    """How many written crops a face detector run on the crops themselves finds a face in (the
    cascade, the same for every configuration): a crop that cuts the face or shows it tiny fails."""
    from PIL import Image

    from lssat_datasets.faces import LbpCascade

    detector = LbpCascade()
    crops = [p for folder in ("images", "frames", "previous") for p in root.rglob(f"{folder}/*/*.png")]
    found = sum(bool(detector(np.asarray(Image.open(crop).convert("RGB")))) for crop in crops)
    return f"{found}/{len(crops)}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--videos", type=int, default=4)
    parser.add_argument("--length", type=int, default=400, help="frames per video")
    parser.add_argument("--frames", type=int, default=32, help="frames kept per video (DeepfakeBench: 32)")
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--detectors", action="store_true", help="compare the face detectors instead")
    parser.add_argument("--no-previous", action="store_true", help="leave out the previous approach (slow: it decodes every frame)")
    parser.add_argument("--run", help=argparse.SUPPRESS)  # one configuration, in a child process
    parser.add_argument("--root", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.detectors:
        detector_table()
        return
    if args.run:
        print(json.dumps(run_one(args.run, args.root, args.frames, args.size)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        first = root / "original_sequences" / "youtube" / "c23" / "videos" / "000.mp4"
        start = time.perf_counter()
        make_video(first, args.length)
        for index in range(1, args.videos):
            shutil.copy(first, first.with_name(f"{index:03d}.mp4"))
        print(f"{args.videos} videos of {args.length} frames at {WIDTH}×{HEIGHT} ({first.stat().st_size / 1e6:.1f} MB each), "
              f"made in {time.perf_counter() - start:.0f} s; {args.frames} frames kept per video\n")
        print(f"{'approach':<38} {'video frames/s':>14} {'kept frames/s':>13} {'faces':>9} {'in crops':>9} {'spread':>6} {'peak main MB':>12} {'peak worker MB':>14}")
        configs = [("previous", "previous (decode all, one process)")] * (not args.no_previous) + [
            ("1", "default path, 1 worker"), ("2", "default path, 2 workers"),
            ("aligned-1", "deepfakebench profile, 1 worker"), ("aligned-2", "deepfakebench profile, 2 workers")]
        for config, title in configs:
            for folder in [*root.rglob("images"), *root.rglob("frames"), *root.rglob("previous")]:
                shutil.rmtree(folder, ignore_errors=True)
            command = [sys.executable, __file__, "--run", config, "--root", str(root), "--frames", str(args.frames), "--size", str(args.size)]
            done = subprocess.run(command, capture_output=True, text=True)
            if done.returncode != 0:
                print(f"{title:<38} failed: {done.stderr.strip().splitlines()[-1] if done.stderr.strip() else done.returncode}")
                continue
            result = json.loads(done.stdout.strip().splitlines()[-1])
            decoded = args.videos * args.length / result["seconds"]
            faces = f"{result['faces']}/{result['written']}"
            worker = "-" if config in ("previous", "1", "aligned-1") else f"{result['worker_mb']:.0f}"
            print(f"{title:<38} {decoded:>14.1f} {result['written'] / result['seconds']:>13.2f} {faces:>9} {result['in_crops']:>9} {result['spread']:>6} {result['main_mb']:>12.0f} {worker:>14}")


if __name__ == "__main__":
    main()
