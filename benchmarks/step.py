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

The training recipes' switches are measured on ViT-Base at 224², batch 16 (L-SSAT MRGB-RLDP-CRGB):
peak memory without and with ``train.grad_checkpointing`` (the goal: at least 40 % less), and the
step time eager and with ``train.compile`` (the goal: no slower; the compiling first step is left
out). ``--only overheads`` or ``--only recipes`` runs one of the two groups.

    python benchmarks/step.py [--batch 32] [--size 224] [--steps 5] [--rounds 1] [--only overheads|recipes]
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

LSSAT = {"name": "mae", "params": {"mask": "rgb", "reconstruct": ["ldp"]}}
CONFIGS = {
    "vit-supervised": ("vit_tiny_patch16_224", {"name": "none"}),
    "vit-lssat": ("vit_tiny_patch16_224", LSSAT),
    "vit-lssat-mask0.8": ("vit_tiny_patch16_224", {"name": "mae", "params": {"mask": "rgb", "reconstruct": ["ldp"], "mask_ratio": 0.8}}),
    "vit-lssat-decoder1": ("vit_tiny_patch16_224", {"name": "mae", "params": {"mask": "rgb", "reconstruct": ["ldp"], "decoder_depth": 1}}),
    "cnn-supervised": ("resnet18", {"name": "none"}),
    "cnn-lssat": ("resnet18", LSSAT),
}
#: the recipes' switches on ViT-Base, 224², batch 16: (backbone, ssl, train settings)
RECIPES = {
    "vitb-eager": ("vit_base_patch16_224", LSSAT, {}),
    "vitb-grad-checkpointing": ("vit_base_patch16_224", LSSAT, {"grad_checkpointing": True}),
    "vitb-compile": ("vit_base_patch16_224", LSSAT, {"compile": True}),
}
RECIPE_BATCH, RECIPE_SIZE = 16, 224


def measure(config: str, batch: int, size: int, steps: int) -> dict:
    import torch
    from torch.nn.attention import SDPBackend, sdpa_kernel
    from torch.utils.flop_counter import FlopCounterMode

    from lssat_framework.model import build
    from lssat_framework.spec import validate_spec
    from lssat_framework.train.accelerator import compile_model, set_grad_checkpointing

    backbone, ssl, switches = RECIPES[config] if config in RECIPES else (*CONFIGS[config], {})
    params = {"img_size": size} if backbone.startswith("vit") else {}
    spec = {
        "name": config,
        "data": {"name": "synthetic-faces", "params": {"image_size": size, "train": 1, "val": 1}},
        "task": {"name": "deepfake"},
        "backbone": {"name": backbone, "params": params},
        "descriptors": {"ldp": {"name": "ldp"}},
        "ssl": ssl,
        "classify": "rgb",
        "train": {"epochs": 1, "batch_size": batch, **switches},
    }
    resolved = validate_spec(spec)
    built = build(resolved)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    model, task = built.model.to(device), built.task
    if resolved.spec.train.grad_checkpointing:
        set_grad_checkpointing(model, backbone)
    if resolved.spec.train.compile:
        compile_model(model, resolved.spec.train)
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

    gflops = None
    if resolved.spec.train.compile:
        step()  # the warm-up compiles; the compiled graphs are not counted
    else:
        with FlopCounterMode(display=False) as counter, sdpa_kernel(SDPBackend.MATH):
            step()  # also the warm-up
        gflops = counter.get_total_flops() / 1e9
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    seconds = sorted(times)[len(times) // 2]
    peak = torch.cuda.max_memory_allocated() / 2**20 if device.type == "cuda" else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"config": config, "step_s": seconds, "images_per_s": batch / seconds, "peak_mb": peak, "gflops": gflops, "device": device.type}


def run_one(config: str, batch: int, size: int, steps: int) -> dict:
    """``config`` measured in a process of its own (so that its peak memory is its own)."""
    command = [sys.executable, __file__, "--one", config, "--batch", str(batch), "--size", str(size), "--steps", str(steps)]
    out = subprocess.run(command, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def show(r: dict, prefix: str = "") -> None:
    flops = f"{r['gflops']:6.0f} GFLOP/step" if r["gflops"] is not None else " " * 15
    print(
        f"{prefix}{r['config']:<24} {r['step_s'] * 1000:8.0f} ms/step {r['images_per_s']:7.1f} img/s  peak {r['peak_mb']:8.0f} MiB  {flops}  ({r['device']})",
        flush=True,
    )


def overheads(args) -> None:
    results: dict[str, dict] = {}
    for round_ in range(args.rounds):
        for config in CONFIGS:
            r = run_one(config, args.batch, args.size, args.steps)
            if config not in results or r["step_s"] < results[config]["step_s"]:
                results[config] = r
            show(r, f"[{round_ + 1}/{args.rounds}] " if args.rounds > 1 else "")
    for config in results:
        family, _, variant = config.partition("-")
        if variant.startswith("lssat"):
            a, b = results[f"{family}-supervised"], results[config]
            print(
                f"{config}: L-SSAT / supervised = {b['step_s'] / a['step_s']:.2f}x time, {b['gflops'] / a['gflops']:.2f}x arithmetic,"
                f" {b['peak_mb'] / a['peak_mb']:.2f}x peak memory"
            )


def recipes(args) -> None:
    print(f"ViT-Base L-SSAT, {RECIPE_SIZE}², batch {RECIPE_BATCH}:")
    results = {config: run_one(config, RECIPE_BATCH, RECIPE_SIZE, args.steps) for config in RECIPES}
    for r in results.values():
        show(r)
    eager, checked, compiled = (results[c] for c in RECIPES)
    print(f"grad_checkpointing: peak memory {checked['peak_mb'] / eager['peak_mb']:.2f}x eager ({1 - checked['peak_mb'] / eager['peak_mb']:.0%} less), step time {checked['step_s'] / eager['step_s']:.2f}x")
    print(f"compile: step time {compiled['step_s'] / eager['step_s']:.2f}x eager")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--only", choices=["overheads", "recipes"])
    parser.add_argument("--one", choices=[*CONFIGS, *RECIPES], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(args.one, args.batch, args.size, args.steps)))
        return
    if args.only != "recipes":
        overheads(args)
    if args.only != "overheads":
        recipes(args)


if __name__ == "__main__":
    main()
