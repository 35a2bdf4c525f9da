"""Images per second of the training loaders, beside the rate PIL alone decodes the same files at.

Writes two datasets in their real layouts into a temporary folder, from crops of the portrait
scikit-image ships (``data.astronaut()``), each image slightly different (crop, tint, noise) so
that no encoder shortcut makes them cheaper than photographs:

* CelebA: ``img_align_celeba/NNNNNN.jpg`` (178×218 JPEG, quality 95) with its attribute and
  partition lists, read at ``--celeba-size`` (default 128);
* FaceForensics++: ``{original,manipulated}_sequences/.../c23/frames/<video>/NNNN.png``
  (256×256 PNG frames, as ``lssat prepare ffpp`` writes them) with its split lists, read at 224.

For 0, 1 and 2 workers, the trainer's own training loader (:func:`make_loaders`: persistent
workers, prefetch, the epoch's shuffle) is read for two epochs and the second is timed (the
steady state of a run; the first also starts the workers). The limit is PIL's decode alone
(``Image.open(...).convert("RGB")``) of the same files in one process; the loader's rate is
also given as a fraction of that limit per process that decodes (the main one for 0 workers).

    python benchmarks/data.py [--images 512] [--batch 64]
"""

from __future__ import annotations

import argparse
import json
import os
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
    """Images/s of PIL's decode alone, one process (the best of two passes: the files are cached)."""
    best = float("inf")
    for _ in range(2):
        start = time.perf_counter()
        for path in paths:
            with Image.open(path) as image:
                image.convert("RGB")
        best = min(best, time.perf_counter() - start)
    return len(paths) / best


def loader_rate(train_set, workers: int, batch: int) -> float:
    """Images/s of the trainer's training loader over its second epoch."""
    import torch

    from lssat_framework.spec import TrainSpec
    from lssat_framework.train.accelerator import make_loaders

    spec = TrainSpec(epochs=2, batch_size=batch, num_workers=workers)
    loader, sampler, _ = make_loaders(train_set, train_set, spec, seed=0, device=torch.device("cpu"))
    seconds, seen = 0.0, 0
    for epoch in range(2):
        sampler.set_epoch(epoch)
        start = time.perf_counter()
        seen = sum(len(b["image"]) for b in loader)
        seconds = time.perf_counter() - start
    return seen / seconds


def main() -> None:
    import torch

    import lssat_framework as lssat

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=512, help="training images per dataset")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--celeba-size", type=int, default=128)
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
        print(f"{os.cpu_count()} CPUs; batch {args.batch}; images/s (fraction of the PIL decode limit per decoding process)")
        for title, paths, make_source, size in cases:
            limit = decode_rate(paths)
            train_set = make_source().split("train")
            cells = []
            for workers in WORKERS:
                rate = loader_rate(train_set, workers, args.batch)
                cells.append(f"{workers} workers {rate:7.0f} ({rate / (limit * max(1, workers)):4.2f})")
            print(f"{title} → {size}², {len(train_set)} images: PIL decode {limit:7.0f} | " + " | ".join(cells), flush=True)


if __name__ == "__main__":
    main()
