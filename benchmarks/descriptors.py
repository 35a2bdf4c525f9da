"""Throughput of the texture descriptors on this machine, measured side by side in one run.

A batch of 64 gray 224×224 images (crops of the photographs scikit-image ships). For LBP, eager
and compiled (``compile: true``), the ratio against a per-image
``skimage.feature.local_binary_pattern`` loop, and whether the codes are identical; beside
``codes`` (gray input), ``forward`` on an RGB batch of the same size, as training calls it (gray
conversion, codes, the mapping to [0, 1]), with its own ratio against the same loop. Each
descriptor's time per batch is also given as a fraction of one ViT-Tiny training step (batch 64,
224², supervised) measured in the same run.

    python benchmarks/descriptors.py [--batch 64] [--size 224] [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from skimage import color, data, feature  # noqa: E402

import lssat_framework as lssat  # noqa: E402


def random_crops(photos: list[np.ndarray], batch: int, size: int, seed: int) -> np.ndarray:
    """``batch`` crops of ``size``² at random places, taking the photographs in turn."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(batch):
        photo = photos[i % len(photos)]
        y = rng.integers(0, photo.shape[0] - size + 1)
        x = rng.integers(0, photo.shape[1] - size + 1)
        out.append(photo[y : y + size, x : x + size])
    return np.stack(out)


def photo_batch(batch: int, size: int, seed: int = 0) -> np.ndarray:
    photos = [data.camera(), (color.rgb2gray(data.astronaut()) * 255).round().astype(np.uint8), data.coins(), data.moon(), data.brick(), data.grass()]
    return random_crops(photos, batch, size, seed)


def rgb_batch(batch: int, size: int, seed: int = 1) -> np.ndarray:
    """Crops of the colour photographs, ``batch×size×size×3`` uint8."""
    return random_crops([data.astronaut(), data.chelsea(), data.coffee(), data.rocket()], batch, size, seed)


def best_time(fn, repeats: int, budget: float = 1.0) -> float:
    """The fastest of at least ``repeats`` calls, repeating fast ones for ``budget`` seconds
    (the minimum is the figure least disturbed by other work on the machine)."""
    fn()  # warm-up
    times: list[float] = []
    while len(times) < repeats or sum(times) < budget:
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def vit_step_time(batch: int, size: int, repeats: int) -> float:
    backbone = lssat.create("backbone", "vit_tiny_patch16_224", img_size=size)
    head = torch.nn.Linear(backbone.num_features, 1)
    optimizer = torch.optim.AdamW(list(backbone.parameters()) + list(head.parameters()), lr=1e-4)
    images, target = torch.rand(batch, 3, size, size), torch.rand(batch)

    def step():
        loss = torch.nn.functional.binary_cross_entropy_with_logits(head(backbone.forward_pooled(images)).squeeze(-1), target)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    return best_time(step, repeats)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = parser.parse_args()

    gray = photo_batch(args.batch, args.size)
    images = torch.from_numpy(gray).float().div(255).unsqueeze(1).to(args.device)
    rgb = torch.from_numpy(rgb_batch(args.batch, args.size)).permute(0, 3, 1, 2).float().div(255).contiguous().to(args.device)
    sync = torch.cuda.synchronize if args.device.startswith("cuda") else (lambda: None)
    print(f"batch {args.batch}×1×{args.size}×{args.size}, device {args.device}, torch threads {torch.get_num_threads()}")
    step = vit_step_time(args.batch, args.size, max(1, args.repeats - 1)) if args.device == "cpu" else None
    if step:
        print(f"ViT-Tiny supervised training step (batch {args.batch}): {step * 1000:.0f} ms")

    rows = []
    for P, R in [(8, 1), (16, 2), (24, 3)]:
        reference = best_time(lambda: [feature.local_binary_pattern(g, P, R, "uniform") for g in gray], 1)
        expected = np.stack([feature.local_binary_pattern(g, P, R, "uniform") for g in gray])
        for compiled in (False, True):
            descriptor = lssat.create("descriptor", "lbp", points=P, radius=R, method="uniform", compile=compiled).to(args.device)
            start = time.perf_counter()
            codes = descriptor.codes(images)  # the first call compiles
            first = time.perf_counter() - start
            ours = best_time(lambda: (descriptor.codes(images), sync()), args.repeats)
            descriptor(rgb)  # the first forward on RGB compiles its own shapes
            forward = best_time(lambda: (descriptor(rgb), sync()), args.repeats)
            exact = np.array_equal(codes[:, 0].cpu().numpy(), expected)
            label = f"lbp P={P} R={R} uniform{' compiled' if compiled else ''}"
            note = f"codes {reference / ours:5.1f}x skimage ({reference * 1000:.0f} ms), identical: {exact}"
            note += f"; forward (RGB) {forward * 1000:6.1f} ms, {reference / forward:5.1f}x skimage"
            rows.append((label, ours, note + (f", first call {first:.0f} s" if compiled else "")))
    for name, params in [("ltp", {}), ("ltp", {"compile": True}), ("ldp", {}), ("ldp", {"compile": True}), ("hog", {}), ("lbp", {"points": [8, 16], "radius": [1, 2]})]:
        descriptor = lssat.create("descriptor", name, **params).to(args.device)
        seconds = best_time(lambda: (descriptor(images), sync()), args.repeats)
        forward = best_time(lambda: (descriptor(rgb), sync()), args.repeats)
        rows.append((f"{name} {params or 'defaults'}", seconds, f"forward (RGB) {forward * 1000:6.1f} ms"))

    for label, seconds, note in rows:
        share = f"{seconds / step:6.1%} of a ViT-Tiny step" if step else ""
        print(f"{label:<36} {seconds * 1000:8.1f} ms/batch {args.batch / seconds:9.0f} img/s  {share}  {note}")


if __name__ == "__main__":
    main()
