"""Training-step time and peak memory: supervised vs L-SSAT, measured side by side in one run.

Each configuration runs in its own process (so that peak memory is its own): ViT-Tiny at 224²,
batch 32, (a) supervised (`ssl: none`) and (b) L-SSAT MRGB-RLDP-CRGB (mask RGB, reconstruct LDP),
then the same pair for a CNN (ResNet-18, pixel masking). Prints the time per step, images/s, peak
memory (GPU: max allocated; CPU: peak resident set of the process, and "training": that peak less
what the process held before the model was built, the libraries, which a GPU's figure leaves out
too; under ``train.compile`` it includes the compiler's own memory), the activations autograd
holds between the passes (exact), the arithmetic of one step (forward + backward, counted with
``torch.utils.flop_counter``; attention through the math kernel so that it is counted too) and the
ratios b/a. Two ViT variants show what the defaults cost: a mask
ratio of 0.8 and a one-block decoder.

Shared machines drift: ``--rounds N`` runs the whole sequence N times, interleaved, and keeps each
configuration's fastest round.

The training recipes' switches are measured on ViT-Base at 224², batch 16 (L-SSAT MRGB-RLDP-CRGB):
peak memory without and with ``train.grad_checkpointing`` (the goal: at least 40 % less), and the
step time eager and with ``train.compile`` (the goal: no slower; the compiling first step is left
out). On the CPU the two memory figures are taken again in processes whose freed tensors go back to
the system (``LIVE_MEMORY``), so that the peak resident set is that of live memory. ``--only
overheads`` or ``--only recipes`` runs one of the two groups.

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

    from lssat_framework.spec import validate_spec

    resolved = validate_spec(spec_of(config, batch, size))
    for component in resolved.components.values():
        component.component.resolve()  # imports the plugins' modules (timm's models among them)
    # what the process holds before the model exists (libraries, the interpreter): on the CPU the peak
    # resident set includes it, on the GPU max_memory_allocated counts only tensors
    imported = 0.0 if torch.cuda.is_available() else resident_peak_mb()
    model, loss_of_batch = build_model(resolved, batch, size)
    compiled = resolved.spec.train.compile
    device = next(model.parameters()).device
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)

    def step():
        loss_of_batch().backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)  # as the trainer does: no gradients held through the forward pass
        sync()

    step()  # the warm-up (it compiles under train.compile)
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    seconds = sorted(times)[len(times) // 2]
    # the peak of the steps as trained, taken before the counting steps (the math attention kernel holds more)
    peak = torch.cuda.max_memory_allocated() / 2**20 if device.type == "cuda" else resident_peak_mb()
    gflops = held = None
    if not compiled:  # the compiled graphs are not counted
        with FlopCounterMode(display=False) as counter, sdpa_kernel(SDPBackend.MATH):
            step()
        gflops = counter.get_total_flops() / 1e9
        held = held_activations_mb(model, loss_of_batch)
    return {
        "config": config, "step_s": seconds, "images_per_s": batch / seconds, "peak_mb": peak,
        "training_mb": peak - imported, "activations_mb": held, "gflops": gflops, "device": device.type,
    }


def spec_of(config: str, batch: int, size: int) -> dict:
    backbone, ssl, switches = RECIPES[config] if config in RECIPES else (*CONFIGS[config], {})
    return {
        "name": config,
        "data": {"name": "synthetic-faces", "params": {"image_size": size, "train": 1, "val": 1}},
        "task": {"name": "deepfake"},
        "backbone": {"name": backbone, "params": {"img_size": size} if backbone.startswith("vit") else {}},
        "descriptors": {"ldp": {"name": "ldp"}},
        "ssl": ssl,
        "classify": "rgb",
        "train": {"epochs": 1, "batch_size": batch, **switches},
    }


def build_model(resolved, batch: int, size: int):
    """The model with the spec's switches applied, and a function giving one batch's joint loss."""
    import torch

    from lssat_framework.model import build
    from lssat_framework.train.accelerator import compile_model, set_grad_checkpointing

    built = build(resolved)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    model, task = built.model.to(device), built.task
    if resolved.spec.train.grad_checkpointing:
        set_grad_checkpointing(model, resolved.spec.backbone.name)
    if resolved.spec.train.compile:
        compile_model(model, resolved.spec.train)
    images = torch.rand(batch, 3, size, size, device=device)
    target = torch.randint(0, 2, (batch,), device=device)

    def loss_of_batch():
        logits, out = model(images)
        return 0.1 * task.loss(logits, target) + 0.9 * sum(out.losses.values(), torch.zeros((), device=device))

    return model, loss_of_batch


def resident_peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def held_activations_mb(model, loss_of_batch) -> float:
    """What autograd keeps from one forward pass for the backward one (parameters not counted):
    exact, and the part of the memory that activation checkpointing takes away."""
    import torch

    parameters = {p.untyped_storage().data_ptr() for p in model.parameters()}
    held: dict[int, int] = {}

    def pack(tensor):
        storage = tensor.untyped_storage()
        if storage.data_ptr() not in parameters:
            held[storage.data_ptr()] = storage.nbytes()
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        loss_of_batch()
    return sum(held.values()) / 2**20


#: glibc keeps freed blocks below its mmap threshold for reuse, and raises that threshold as large
#: blocks are freed, so the resident set also counts tensors long gone (as a GPU's reserved memory
#: does). A fixed threshold maps every tensor over 1 MiB on its own and returns it when freed: the
#: peak resident set is then the peak of live memory, as a GPU's max_memory_allocated is. The
#: unmapping costs time, so steps are timed without it.
LIVE_MEMORY = {"MALLOC_MMAP_THRESHOLD_": str(2**20)}


def run_one(config: str, batch: int, size: int, steps: int, env: dict | None = None) -> dict:
    """``config`` measured in a process of its own (so that its peak memory is its own)."""
    command = [sys.executable, __file__, "--one", config, "--batch", str(batch), "--size", str(size), "--steps", str(steps)]
    out = subprocess.run(command, capture_output=True, text=True, check=True, env={**os.environ, **(env or {})})
    return json.loads(out.stdout.strip().splitlines()[-1])


def show(r: dict, prefix: str = "") -> None:
    flops = f"{r['gflops']:6.0f} GFLOP/step" if r["gflops"] is not None else " " * 15
    held = f"activations {r['activations_mb']:6.0f} MiB" if r["activations_mb"] is not None else " " * 22
    print(
        f"{prefix}{r['config']:<24} {r['step_s'] * 1000:8.0f} ms/step {r['images_per_s']:7.1f} img/s  peak {r['peak_mb']:6.0f} MiB"
        f" (training {r['training_mb']:6.0f})  {held}  {flops}  ({r['device']})",
        flush=True,
    )


def fastest_rounds(configs, batch: int, size: int, args) -> dict[str, dict]:
    """Every configuration once per round, interleaved; each one's fastest round kept."""
    results: dict[str, dict] = {}
    for round_ in range(args.rounds):
        for config in configs:
            r = run_one(config, batch, size, args.steps)
            if config not in results or r["step_s"] < results[config]["step_s"]:
                results[config] = r
            show(r, f"[{round_ + 1}/{args.rounds}] " if args.rounds > 1 else "")
    return results


def overheads(args) -> None:
    results = fastest_rounds(CONFIGS, args.batch, args.size, args)
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
    results = fastest_rounds(RECIPES, RECIPE_BATCH, RECIPE_SIZE, args)
    eager, checked, compiled = (results[c] for c in RECIPES)
    pairs = [("", eager, checked)]
    if eager["device"] == "cpu":
        print("peak memory again, freed memory returned to the system (LIVE_MEMORY):")
        live = [run_one(c, RECIPE_BATCH, RECIPE_SIZE, 1, LIVE_MEMORY) for c in ("vitb-eager", "vitb-grad-checkpointing")]
        for r in live:
            show(r, "  ")
        pairs.append((", live", *live))
    for suffix, plain, checkpointed in pairs:
        for what, key in [("peak memory", "peak_mb"), ("training's memory", "training_mb")]:
            print(f"grad_checkpointing: {what}{suffix} {checkpointed[key] / plain[key]:.2f}x eager ({1 - checkpointed[key] / plain[key]:.0%} less)")
    print(f"grad_checkpointing: activations held {checked['activations_mb'] / eager['activations_mb']:.2f}x eager "
          f"({1 - checked['activations_mb'] / eager['activations_mb']:.0%} less)")
    print(f"grad_checkpointing: step time {checked['step_s'] / eager['step_s']:.2f}x, arithmetic {checked['gflops'] / eager['gflops']:.2f}x")
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
