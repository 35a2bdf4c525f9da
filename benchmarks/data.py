"""Images per second of the training loaders, beside the rate PIL alone decodes the same files at.

Writes two datasets in their real layouts into a temporary folder, from crops of the portrait
scikit-image ships (``data.astronaut()``), each image slightly different (crop, tint, noise) so
that no encoder shortcut makes them cheaper than photographs:

* CelebA: ``img_align_celeba/NNNNNN.jpg`` (178×218 JPEG, quality 95) with its attribute and
  partition lists, read at ``--celeba-size`` (default 128);
* FaceForensics++: ``{original,manipulated}_sequences/.../c23/frames/<video>/NNNN.png``
  (256×256 PNG frames, as ``lssat prepare ffpp`` writes them) with its split lists, read at 224.

For 0, 1 and 2 workers, the trainer's own training loader (:func:`make_loaders`: persistent
workers, prefetch, the epoch's shuffle) is read once to start its workers, then timed an epoch per
round. The limit is PIL's decode alone (``Image.open(...).convert("RGB")``) of the same files in
one process, timed just before each epoch; the loader's rate is given as a fraction of it per
process that decodes (the main one for 0 workers). "Read alone" is the same fraction for
:func:`~lssat_framework.images.load_image` in a plain loop: decoding plus the crop and resize
that no loader can skip, hence the most a loader can reach.

    python benchmarks/data.py [--images 512] [--batch 64] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402
from skimage import data  # noqa: E402

WORKERS = (0, 1, 2)


def portrait_variant(rng: np.random.Generator, width: int, height: int) -> Image.Image:
    """A crop of the astronaut portrait, tinted and with a little noise, resized to width×height."""
    photo = data.astronaut()
    side = int(rng.integers(300, 512))
    top, left = rng.integers(0, 512 - side + 1, size=2)
    crop = photo[top : top + side, left : left + side].astype(np.float32)
    crop = crop * rng.uniform(0.8, 1.2, size=3) + rng.normal(0, 4, size=crop.shape)
    return Image.fromarray(np.clip(crop, 0, 255).astype(np.uint8)).resize((width, height), Image.BILINEAR)


def write_celeba(root: Path, count: int, rng: np.random.Generator) -> list[Path]:
    folder = root / "img_align_celeba"
    folder.mkdir(parents=True)
    names = [f"{i + 1:06d}.jpg" for i in range(count)]
    for name in names:
        portrait_variant(rng, 178, 218).save(folder / name, quality=95)
    attributes = ["Male", "Smiling"]
    rows = [f"{name} " + " ".join(f"{rng.choice([-1, 1]):2d}" for _ in attributes) for name in names]
    (root / "list_attr_celeba.txt").write_text("\n".join([str(count), " ".join(attributes), *rows]) + "\n")
    # everything in the training split but a handful (the val/test splits may not be empty)
    (root / "list_eval_partition.txt").write_text("".join(f"{n} {0 if i >= 4 else 1 + i % 2}\n" for i, n in enumerate(names)))
    return [folder / n for n in names]


def write_ffpp(root: Path, count: int, rng: np.random.Generator, frames: int = 8) -> list[Path]:
    """Pairs of real videos and their Deepfakes swaps, ``frames`` PNG frames each, until ``count`` training frames."""
    pairs = max(1, count // (4 * frames))
    train = [[f"{2 * i:03d}", f"{2 * i + 1:03d}"] for i in range(pairs)]
    held_out = {"val": [["900", "901"]], "test": [["902", "903"]]}
    paths = []
    for split, split_pairs in {"train": train, **held_out}.items():
        (root / f"{split}.json").parent.mkdir(parents=True, exist_ok=True)
        (root / f"{split}.json").write_text(json.dumps(split_pairs))
        for a, b in split_pairs:
            videos = [("original_sequences/youtube", v) for v in (a, b)] + [("manipulated_sequences/Deepfakes", v) for v in (f"{a}_{b}", f"{b}_{a}")]
            for base, video in videos:
                folder = root / base / "c23" / "frames" / video
                folder.mkdir(parents=True)
                for f in range(frames if split == "train" else 1):
                    path = folder / f"{f:04d}.png"
                    portrait_variant(rng, 256, 256).save(path)
                    if split == "train":
                        paths.append(path)
    return paths


def decode_rate(paths: list[Path]) -> float:
    """Images/s of PIL's decode alone, one pass in this process (the files are in the page cache)."""
    start = time.perf_counter()
    for path in paths:
        with Image.open(path) as image:
            image.convert("RGB")
    return len(paths) / (time.perf_counter() - start)


def read_rate(paths: list[Path], size: int) -> float:
    """Images/s of reading each file as the datasets do (decode, crop, resize), no loader around it."""
    from lssat_framework.images import load_image

    start = time.perf_counter()
    for path in paths:
        load_image(path, size)
    return len(paths) / (time.perf_counter() - start)


def training_loaders(train_set, batch: int) -> dict:
    """The trainer's training loader per worker count, each read once (its workers started)."""
    import torch

    from lssat_framework.spec import TrainSpec
    from lssat_framework.train.accelerator import make_loaders

    loaders = {}
    for workers in WORKERS:
        spec = TrainSpec(epochs=2, batch_size=batch, num_workers=workers)
        loader, sampler, _ = make_loaders(train_set, train_set, spec, seed=0, device=torch.device("cpu"))
        sum(1 for _ in loader)
        loaders[workers] = (loader, sampler)
    return loaders


def epoch_rate(loader, sampler, epoch: int) -> float:
    sampler.set_epoch(epoch)
    start = time.perf_counter()
    seen = sum(len(b["image"]) for b in loader)
    return seen / (time.perf_counter() - start)


def measure(paths: list[Path], train_set, size: int, batch: int, rounds: int) -> dict[str, list[float]]:
    """Rates side by side, since this machine's speed drifts between rounds: per round a read pass
    against a decode pass, then each loader epoch right after a decode pass of its own; per
    loader its rates and its fractions of that decode."""
    loaders = training_loaders(train_set, batch)
    results: dict[str, list[float]] = {"decode": [], "read": []}
    for round_ in range(rounds):
        results["read"].append(read_rate(paths, size) / decode_rate(paths))
        for workers, (loader, sampler) in loaders.items():
            decode = decode_rate(paths)
            rate = epoch_rate(loader, sampler, round_ + 1)
            results["decode"].append(decode)
            results.setdefault(workers, []).append(rate)
            results.setdefault(f"{workers} fraction", []).append(rate / (decode * max(1, workers)))
    return results


def main() -> None:
    import torch

    import lssat_framework as lssat

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=512, help="training images per dataset")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--celeba-size", type=int, default=128)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(1)  # each process decodes on one core, as loader workers do
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory(prefix="lssat-data-bench-") as tmp:
        celeba, ffpp = Path(tmp) / "celeba", Path(tmp) / "ffpp"
        cases = [
            ("CelebA JPEG 178×218", write_celeba(celeba, args.images + 4, rng)[4:],
             lambda: lssat.create("dataset", "celeba", root=str(celeba), image_size=args.celeba_size), args.celeba_size),
            ("FF++ PNG 256×256", write_ffpp(ffpp, args.images, rng),
             lambda: lssat.create("dataset", "ffpp", root=str(ffpp), methods=["Deepfakes"], image_size=224), 224),
        ]
        print(f"{os.cpu_count()} CPUs; batch {args.batch}; {args.rounds} rounds. Images/s (best round), and in brackets "
              "the median over rounds of the fraction of the PIL decode rate measured just before, per decoding process")
        for title, paths, make_source, size in cases:
            results = measure(paths, make_source().split("train"), size, args.batch, args.rounds)
            cells = [f"{w} workers {max(results[w]):6.0f} ({statistics.median(results[f'{w} fraction']):4.2f})" for w in WORKERS]
            print(f"{title} → {size}², {len(paths)} images: PIL decode {max(results['decode']):6.0f} | "
                  f"read alone ({statistics.median(results['read']):4.2f}) | " + " | ".join(cells), flush=True)


if __name__ == "__main__":
    main()
