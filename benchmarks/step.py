"""Training-step time and peak memory: supervised vs L-SSAT, measured side by side in one run.

Each configuration runs in its own process (so that peak memory is its own): ViT-Tiny at 224²,
batch 32, (a) supervised (`ssl: none`) and (b) L-SSAT MRGB-RLDP-CRGB (mask RGB, reconstruct LDP),
then the same pair for a CNN (ResNet-18, pixel masking). Prints the time per step, images/s, peak
memory (GPU: max allocated; CPU: peak resident set of the process), the arithmetic of one step
(forward + backward, counted with ``torch.utils.flop_counter``; attention through the math kernel so
that it is counted too) and the ratios b/a. Two ViT variants show what the defaults cost: a mask
ratio of 0.8 and a one-block decoder.

Shared machines drift: ``--rounds N`` runs the whole sequence N times, interleaved, and keeps each
configuration's fastest round.

    python benchmarks/step.py [--batch 32] [--size 224] [--steps 5] [--rounds 1]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")

CONFIGS = {
    "vit-supervised": ("vit_tiny_patch16_224", {"name": "none"}),
    "vit-lssat": ("vit_tiny_patch16_224", {"name": "mae", "params": {"mask": "rgb", "reconstruct": ["ldp"]}}),
    "vit-lssat-mask0.8": ("vit_tiny_patch16_224", {"name": "mae", "params": {"mask": "rgb", "reconstruct": ["ldp"], "mask_ratio": 0.8}}),
    "vit-lssat-decoder1": ("vit_tiny_patch16_224", {"name": "mae", "params": {"mask": "rgb", "reconstruct": ["ldp"], "decoder_depth": 1}}),
    "cnn-supervised": ("resnet18", {"name": "none"}),
    "cnn-lssat": ("resnet18", {"name": "mae", "params": {"mask": "rgb", "reconstruct": ["ldp"]}}),
}


def measure(config: str, batch: int, size: int, steps: int) -> dict:
    import torch
    from torch.nn.attention import SDPBackend, sdpa_kernel
    from torch.utils.flop_counter import FlopCounterMode

    from lssat_framework.model import build
    from lssat_framework.spec import validate_spec

    backbone, ssl = CONFIGS[config]
    params = {"img_size": size} if backbone.startswith("vit") else {}
    spec = {
        "name": config,
        "data": {"name": "synthetic-faces", "params": {"image_size": size, "train": 1, "val": 1}},
        "task": {"name": "deepfake"},
        "backbone": {"name": backbone, "params": params},
        "descriptors": {"ldp": {"name": "ldp"}},
        "ssl": ssl,
        "classify": "rgb",
        "train": {"epochs": 1, "batch_size": batch},
    }
    built = build(validate_spec(spec))
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    model, task = built.model.to(device), built.task
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
    images = torch.rand(batch, 3, size, size, device=device)
    target = torch.randint(0, 2, (batch,), device=device)
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)

    def step():
        logits, out = model(images)
        loss = 0.1 * task.loss(logits, target) + 0.9 * sum(out.losses.values(), torch.zeros((), device=device))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        sync()

    with FlopCounterMode(display=False) as counter, sdpa_kernel(SDPBackend.MATH):
        step()  # also the warm-up
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    seconds = sorted(times)[len(times) // 2]
    peak = torch.cuda.max_memory_allocated() / 2**20 if device.type == "cuda" else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    gflops = counter.get_total_flops() / 1e9
    return {"config": config, "step_s": seconds, "images_per_s": batch / seconds, "peak_mb": peak, "gflops": gflops, "device": device.type}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--one", choices=list(CONFIGS), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(args.one, args.batch, args.size, args.steps)))
        return
    results: dict[str, dict] = {}
    for round_ in range(args.rounds):
        for config in CONFIGS:
            command = [sys.executable, __file__, "--one", config, "--batch", str(args.batch), "--size", str(args.size), "--steps", str(args.steps)]
            out = subprocess.run(command, capture_output=True, text=True, check=True)
            r = json.loads(out.stdout.strip().splitlines()[-1])
            if config not in results or r["step_s"] < results[config]["step_s"]:
                results[config] = r
            print(
                f"{f'[{round_ + 1}/{args.rounds}] ' if args.rounds > 1 else ''}{config:<20} {r['step_s'] * 1000:8.0f} ms/step"
                f" {r['images_per_s']:7.1f} img/s  peak {r['peak_mb']:8.0f} MiB  {r['gflops']:6.0f} GFLOP/step  ({r['device']})",
                flush=True,
            )
    for config in results:
        family, _, variant = config.partition("-")
        if variant.startswith("lssat"):
            a, b = results[f"{family}-supervised"], results[config]
            print(
                f"{config}: L-SSAT / supervised = {b['step_s'] / a['step_s']:.2f}x time, {b['gflops'] / a['gflops']:.2f}x arithmetic,"
                f" {b['peak_mb'] / a['peak_mb']:.2f}x peak memory"
            )


if __name__ == "__main__":
    main()
