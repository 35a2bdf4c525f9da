"""Issue 13: ViT training as timm users do it: timm's optimisers, activation checkpointing,
torch.compile, layer-wise lr decay, an EMA of the weights, and loaders that keep a GPU fed."""

import collections
import copy

import pytest
import torch
from safetensors.torch import load_file

from lssat_framework.errors import ComponentError, SpecError
from lssat_framework.model import build
from lssat_framework.spec import TrainSpec, validate_spec
from lssat_framework.train import train
from lssat_framework.train.accelerator import compile_model, compiler_errors, make_loaders, set_grad_checkpointing
from lssat_framework.train.optim import EpochPlan, make_optimizer, make_schedule

from test_checkpoints import Killed, kill_at
from test_train import read_jsonl


def train_spec(**values) -> TrainSpec:
    return TrainSpec(**{"epochs": 1, "batch_size": 8, **values})


def built_model(tiny_spec, **backbone_params):
    tiny_spec["backbone"]["params"].update(backbone_params)
    return build(validate_spec(tiny_spec))


def old_no_decay_rule(name, param):
    """The trainer's own rule before the optimiser came from timm."""
    return param.ndim <= 1 or name.endswith(".bias") or any(t in name for t in ("pos_embed", "cls_token", "mask_token", "reg_token"))


# ------------------------------------------------------------------ item 0: timm's optimisers
def test_the_default_optimiser_is_adamw_with_the_same_betas_and_no_decay_parameters(tiny_spec):
    """Issue 13 item 0: timm's create_optimizer_v2 gives what the trainer built itself before."""
    model = built_model(tiny_spec).model
    optimizer = make_optimizer(model, train_spec(), lr=1e-3)
    assert type(optimizer) is torch.optim.AdamW
    names = {id(p): n for n, p in model.named_parameters()}
    for group in optimizer.param_groups:
        assert group["betas"] == (0.9, 0.95) and group["lr"] == 1e-3
        expected = 0.0 if all(old_no_decay_rule(names[id(p)], p) for p in group["params"]) else 0.05
        assert all(old_no_decay_rule(names[id(p)], p) == (expected == 0.0) for p in group["params"])
        assert group["weight_decay"] == expected
    assert sum(len(g["params"]) for g in optimizer.param_groups) == len(list(model.parameters()))


def test_any_timm_optimiser_by_name_and_a_misspelled_one_is_a_spec_error(tiny_spec):
    """Issue 13 item 0: ``train.optimizer`` names any timm optimiser."""
    from timm.optim import Lamb

    model = built_model(tiny_spec).model
    assert isinstance(make_optimizer(model, train_spec(optimizer="lamb"), lr=1e-3), Lamb)
    assert type(make_optimizer(model, train_spec(optimizer="sgd"), lr=1e-3)) is torch.optim.SGD
    with pytest.raises(SpecError, match=r"train.optimizer: 'adamww' is not a timm optimiser; did you mean adamw"):
        make_optimizer(model, train_spec(optimizer="adamww"), lr=1e-3)


# ------------------------------------------------------------------ item 4: layer decay
def test_layer_decay_scales_a_four_block_vit_and_composes_with_the_schedule(tiny_spec):
    """Issue 13 item 4: timm's numbering of a ViT (stem 0, blocks 1-4, the final norm with the last
    block) with the head and the decoder above it (5): lr scale 0.75^(5 - layer); each group's lr
    follows the schedule."""
    model = built_model(tiny_spec, depth=4).model
    optimizer = make_optimizer(model, train_spec(layer_decay=0.75), lr=1e-3)
    scale_of, decay_of = {}, {}
    for group in optimizer.param_groups:
        assert group["lr"] == pytest.approx(1e-3 * group["lr_scale"])
        for param in group["params"]:
            scale_of[id(param)], decay_of[id(param)] = group["lr_scale"], group["weight_decay"]

    def expected_layer(name):
        if name.startswith(("backbone.model.patch_embed", "backbone.model.pos_embed", "backbone.model.cls_token")):
            return 0
        if name.startswith("backbone.model.blocks."):
            return 1 + int(name.split(".")[3])
        if name.startswith("backbone.model.norm."):
            return 4
        assert name.startswith(("head.", "objective.")), name
        return 5

    for name, param in model.named_parameters():
        assert scale_of[id(param)] == pytest.approx(0.75 ** (5 - expected_layer(name))), name
        assert decay_of[id(param)] == (0.0 if old_no_decay_rule(name, param) else 0.05), name
    # warm-up over 4 updates of 10, then the cosine: lr = peak × scale × factor, group by group
    schedule = make_schedule(optimizer, train_spec(layer_decay=0.75, warmup_epochs=0.4), EpochPlan(batches=10, grad_accum=1), lr=1e-3)
    for step, factor in enumerate([0.25, 0.5, 0.75, 1.0, 1.0]):
        for group in optimizer.param_groups:
            assert group["lr"] == pytest.approx(1e-3 * group["lr_scale"] * factor), step
        optimizer.step()
        schedule.step()


# ------------------------------------------------------------------ item 2: activation checkpointing
def gradients_and_block_calls(model, task, images, labels, checkpointing):
    model = copy.deepcopy(model)
    if checkpointing:
        set_grad_checkpointing(model, "tiny")
    blocks = getattr(model.backbone.model, "blocks", None) or model.backbone.model.layer4
    calls = []
    blocks[0].register_forward_pre_hook(lambda *_: calls.append("backbone"))  # a recomputation stops before the block returns
    model.objective.decoder_blocks[0].register_forward_pre_hook(lambda *_: calls.append("decoder"))
    torch.manual_seed(1)  # the same mask and drop-path draws in both runs
    logits, out = model(images)
    (task.loss(logits, labels) + sum(out.losses.values())).backward()
    return {n: p.grad for n, p in model.named_parameters() if p.grad is not None}, collections.Counter(calls)


@pytest.mark.parametrize("backbone", ["vit", "cnn"])
def test_checkpointed_gradients_equal_the_unchecked_ones(tiny_spec, backbone):
    """Issue 13 item 2: both passes and the MAE decoder recompute their activations (the first
    block runs twice per pass) and give the gradients of the plain run, drop path included."""
    size = 32
    if backbone == "cnn":
        size = 64
        tiny_spec["backbone"] = {"name": "test_resnet", "params": {"drop_path_rate": 0.1}}
        tiny_spec["data"]["params"]["image_size"] = size
    else:
        tiny_spec["backbone"]["params"].update(depth=2, drop_path_rate=0.1)
    built = build(validate_spec(tiny_spec))
    images, labels = torch.rand(4, 3, size, size), torch.tensor([0, 1, 0, 1])
    plain, plain_calls = gradients_and_block_calls(built.model, built.task, images, labels, checkpointing=False)
    checked, checked_calls = gradients_and_block_calls(built.model, built.task, images, labels, checkpointing=True)
    # backbone: task and masked pass, each recomputed in backward; the decoder: once, recomputed
    assert plain_calls == {"backbone": 2, "decoder": 1}
    assert checked_calls == {"backbone": 4, "decoder": 2}
    assert plain.keys() == checked.keys()
    for name, grad in plain.items():
        torch.testing.assert_close(checked[name], grad, rtol=1e-5, atol=1e-6, msg=name)


# ------------------------------------------------------------------ item 3: torch.compile
def test_compile_trains_one_step_on_the_cpu(tmp_path, tiny_spec):
    """Issue 13 item 3: ``train.compile`` compiles the model for the training step and evaluation."""
    from torch._dynamo.utils import counters

    tiny_spec["data"]["params"].update(train=8, val=8)
    tiny_spec["ssl"] = {"name": "none"}
    tiny_spec["descriptors"] = {}
    tiny_spec["train"].update(compile=True, recon_grid=False)
    counters.clear()
    summary = train(validate_spec(tiny_spec), tmp_path / "run")
    assert counters["stats"]["unique_graphs"] >= 2  # the training step and the evaluation
    assert summary["final"]["count"] == 8
    assert not any("_orig_mod" in name for name in load_file(str(tmp_path / "run" / "model.safetensors")))  # plain names


def test_the_compiled_l_ssat_model_is_one_graph(tiny_spec):
    """Both passes, the descriptors and the masked path's count of visible patches trace into one
    graph: a break would end the graph there and, on a GPU, wait for the device every step."""
    model = built_model(tiny_spec).model
    compile_model(model, train_spec(compile=True))
    explanation = torch._dynamo.explain(model.forward)(torch.rand(2, 3, 32, 32))
    assert explanation.graph_break_count == 0, [str(b.reason).splitlines()[0] for b in explanation.break_reasons]
    torch._dynamo.reset()


def test_compile_without_a_compiler_is_the_clear_error():
    """Issue 13 item 3: a machine that cannot compile says so in one line naming the setting."""
    from torch._inductor import config

    class Odd(torch.nn.Module):  # a kernel no other test compiles: nothing cached can stand in for the compiler
        def forward(self, x):
            return (x * 1.37).sin().cumsum(0) - 0.29

    module = Odd()
    compile_model(module, train_spec(compile=True))
    with config.patch({"cpp.cxx": (None, "/nonexistent/c++"), "fx_graph_cache": False}):
        with pytest.raises(ComponentError, match=r"the model \(train.compile: true\) could not be compiled here .*set train.compile: false"):
            with compiler_errors():
                module(torch.rand(2, 3))


# ------------------------------------------------------------------ item 5: EMA
def test_ema_resumes_after_a_kill_exactly_as_an_uninterrupted_run(tmp_path, tiny_spec, monkeypatch):
    """Issue 13 item 5: the EMA is evaluated beside the live weights (``val_ema_auc``), may pick the
    best checkpoint, is checkpointed, and a run killed mid-way resumes to the same metrics."""
    tiny_spec["data"]["params"].update(train=16, val=8)
    tiny_spec["train"].update(epochs=2, checkpoint_every=1, recon_grid=False, ema={"decay": 0.9}, best_metric="ema_auc")
    reference = train(validate_spec(tiny_spec), tmp_path / "reference")
    out = tmp_path / "killed"
    with monkeypatch.context() as patch:
        kill_at(patch, "before moving the new copy in")  # the second save: one update into epoch 1
        with pytest.raises(Killed):
            train(validate_spec(tiny_spec), out)
    resumed = train(validate_spec(tiny_spec), out, resume=True)
    assert resumed["final"] == reference["final"]
    assert resumed["best"] == reference["best"] and reference["best"]["metric"] == "ema_auc"
    strip = lambda rows: [{k: v for k, v in r.items() if k not in ("images_per_s", "step_time_s", "peak_mem_mb")} for r in rows]  # noqa: E731
    records = strip(read_jsonl(out / "metrics.jsonl"))
    assert records == strip(read_jsonl(tmp_path / "reference" / "metrics.jsonl"))
    assert {"val_auc", "val_ema_auc", "val_ema_eer"} <= records[-1].keys() and "val_ema_count" not in records[-1]
    live, average = load_file(str(out / "model.safetensors")), load_file(str(out / "model_ema.safetensors"))
    assert live.keys() == average.keys()
    assert any(not torch.equal(live[k], average[k]) for k in live)
    if resumed["best"]["epoch"] == 2:  # checkpoints/best holds the weights ema_auc judged: the average's
        best = load_file(str(out / "checkpoints" / "best" / "model.safetensors"))
        assert all(torch.equal(best[k], average[k]) for k in average)


def test_an_ema_best_metric_needs_the_average_and_picks_its_weights(tmp_path, tiny_spec):
    """`best_metric: ema_auc` was documented but refused at validation; with the check bypassed,
    checkpoints/best held the live weights."""
    tiny_spec["data"]["params"].update(train=16, val=8)
    tiny_spec["train"].update(epochs=1, recon_grid=False, best_metric="ema_auc")
    with pytest.raises(SpecError, match="weight average, which this run does not keep"):
        train(validate_spec(tiny_spec), tmp_path / "no-average")
    tiny_spec["train"]["ema"] = {"decay": 0.5}
    summary = train(validate_spec(tiny_spec), tmp_path / "run")
    assert summary["best"]["metric"] == "ema_auc"
    best = load_file(str(tmp_path / "run" / "checkpoints" / "best" / "model.safetensors"))
    average, live = load_file(str(tmp_path / "run" / "model_ema.safetensors")), load_file(str(tmp_path / "run" / "model.safetensors"))
    assert all(torch.equal(best[k], average[k]) for k in average)
    assert any(not torch.equal(best[k], live[k]) for k in live)


# ------------------------------------------------------------------ item 6: loaders
def test_loaders_keep_workers_pin_memory_prefetch_and_drop_the_last_training_batch():
    """Issue 13 item 6: persistent workers, pinned batches on CUDA, prefetch; training drops its
    last partial batch, but never its only batch, and evaluation sees every sample."""
    samples = list(range(20))
    spec = train_spec(num_workers=1, prefetch_factor=4)
    train_loader, _, val_loader = make_loaders(samples, samples, spec, seed=0, device=torch.device("cuda"))
    assert train_loader.persistent_workers and train_loader.prefetch_factor == 4 and train_loader.pin_memory
    assert train_loader.drop_last and len(train_loader) == 2 and not val_loader.drop_last and len(val_loader) == 3
    few, _, _ = make_loaders(samples[:6], samples, train_spec(), seed=0, device=torch.device("cpu"))
    assert not few.drop_last and len(few) == 1 and not few.pin_memory and not few.persistent_workers
    two_processes, _, _ = make_loaders(samples[:12], samples, train_spec(), seed=0, device=torch.device("cpu"), num_processes=2)
    assert not two_processes.drop_last  # 12 samples cannot give each of 2 processes a full batch of 8


def test_a_spec_for_a_gpu_run_on_a_machine_without_one_says_so_once(capsys):
    """A bf16 spec on a machine without CUDA trained on the CPU and said nothing."""
    from lssat_framework.train import accelerator

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    from accelerate.state import AcceleratorState

    accelerator._SAID.discard("cpu fallback")
    try:
        AcceleratorState._reset_state(True)  # accelerate keeps one precision per process
        accelerator.make_accelerator(train_spec(precision="bf16"), find_unused=False)
        accelerator.make_accelerator(train_spec(precision="bf16"), find_unused=False)
        err = capsys.readouterr().err
        assert err.count("no GPU found") == 1 and "training on the CPU in bf16" in err
    finally:
        AcceleratorState._reset_state(True)
    accelerator._SAID.discard("cpu fallback")
    accelerator.make_accelerator(train_spec(cpu=True), find_unused=False)  # asked for the CPU: nothing to say
    assert "no GPU" not in capsys.readouterr().err
