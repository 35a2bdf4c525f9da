"""The timm backbone: strict weights, EVA/RoPE ViTs, its params, building on the meta device."""

import os
import subprocess
import sys

import pytest
import timm
import torch
import yaml
from safetensors.torch import save_file

import lssat_framework as lssat
from lssat_framework.errors import ComponentError, SpecError
from lssat_framework.model import build
from lssat_framework.spec import validate_spec

TINY = {"img_size": 32, "patch_size": 8, "depth": 1, "embed_dim": 32, "num_heads": 2}


def tiny_vit(name="vit_tiny_patch16_224", **params):
    return lssat.create("backbone", name, **{**TINY, **params})


def timm_state(name="vit_tiny_patch16_224", **kwargs):
    """Weights of a real timm model (with its classifier, as timm ships them)."""
    return timm.create_model(name, **{**TINY, **kwargs}).state_dict()


def assert_holds(backbone, state):
    loaded = backbone.model.state_dict()
    assert loaded.keys() <= state.keys()
    for key, value in loaded.items():
        torch.testing.assert_close(value, state[key], rtol=0, atol=0)


# --- Issue 16 item 3: weights are loaded strictly --------------------------------------------------


def test_weights_that_match_nothing_are_an_error_with_counts_and_examples(tmp_path):
    """Issue 16 item 3: a file under other names left the backbone random with only a timm warning."""
    path = tmp_path / "other.safetensors"
    save_file({f"encoder.{key}": value for key, value in timm_state(num_classes=0).items()}, str(path))
    with pytest.raises(ComponentError) as info:
        tiny_vit(weights=str(path))
    message = str(info.value)
    total = len(timm_state(num_classes=0))
    assert f"0 of {total} tensors match" in message
    assert f"{total} missing (e.g. cls_token" in message and f"{total} unexpected (e.g. encoder." in message
    assert "backbone.safetensors" in message and str(path) in message


def test_weights_of_another_depth_or_width_are_an_error(tmp_path):
    """Issue 16 item 3: extra blocks or other shapes are refused, not skipped."""
    deeper = tmp_path / "deeper.safetensors"
    save_file(timm_state(depth=2), str(deeper))
    with pytest.raises(ComponentError, match=r"unexpected \(e\.g\. blocks\.1\."):
        tiny_vit(weights=str(deeper))
    wider = tmp_path / "wider.safetensors"
    save_file(timm_state(embed_dim=64), str(wider))
    with pytest.raises(ComponentError, match=r"of another shape \(cls_token: \(1, 1, 64\) given, \(1, 1, 32\) here"):
        tiny_vit(weights=str(wider))


def test_a_runs_model_safetensors_is_read_as_its_backbone(tmp_path, tiny_spec):
    """Issue 16 item 3: a run's model.safetensors (keys backbone.model.…) matched 0 tensors."""
    run_model = build(validate_spec(tiny_spec)).model
    path = tmp_path / "model.safetensors"
    save_file({key: value.contiguous() for key, value in run_model.state_dict().items()}, str(path))
    assert_holds(tiny_vit(weights=str(path)), run_model.backbone.model.state_dict())


def test_weights_keep_timms_classifier_drop_and_input_conv_adaptation(tmp_path):
    """Issue 16 item 3: strict, except for the classifier and an in_chans adaptation."""
    state = timm_state(num_classes=10)  # a classifier the headless backbone does not have
    path = tmp_path / "classifier.safetensors"
    save_file(state, str(path))
    assert_holds(tiny_vit(weights=str(path)), state)
    one_channel = tiny_vit(weights=str(path), in_chans=1)
    weight = one_channel.model.patch_embed.proj.weight
    torch.testing.assert_close(weight, state["patch_embed.proj.weight"].sum(dim=1, keepdim=True))


# --- Issue 16 item 11: EVA and RoPE ViTs in the token-dropping path ---------------------------------

ROPE_VITS = ["eva02_tiny_patch14_224", "vit_base_patch16_rope_reg1_gap_256", "vit_base_patch16_rope_mixed_224"]


@pytest.mark.parametrize("name", [*ROPE_VITS, "vit_tiny_patch16_224"])
def test_masked_tokens_match_timms_forward_with_the_masked_patches_hidden(name):
    """Issue 16 item 11: ViTs whose _pos_embed returns (tokens, rope) crashed with a TypeError.

    The visible tokens must come out as timm's own forward gives them when attention ignores the
    masked patches: the rotary embedding follows each kept token."""
    torch.manual_seed(0)
    backbone = tiny_vit(name, depth=2).eval()
    assert backbone.masking == "tokens"
    images = torch.rand(2, 3, 32, 32)
    mask = torch.zeros(2, 16, dtype=torch.bool)
    mask[0, [1, 5, 6, 12]] = True
    mask[1, [0, 2, 3, 15]] = True
    prefix = backbone.model.num_prefix_tokens
    attend = torch.cat([torch.ones(2, prefix, dtype=torch.bool), ~mask], dim=1)[:, None, None, :]
    with torch.no_grad():
        tokens = backbone.forward_masked(images, mask)
        expected = backbone.model.forward_features(images, attn_mask=attend)[:, prefix:]
        unmasked = backbone.forward_masked(images, torch.zeros_like(mask))
        whole = backbone.model.forward_features(images)[:, prefix:]
    torch.testing.assert_close(tokens[~mask], expected[~mask])
    torch.testing.assert_close(unmasked, whole)


def test_an_eva02_backbone_trains_an_mae_step(tiny_spec):
    """Issue 16 item 11: the whole L-SSAT step (task pass and masked pass) on EVA02."""
    tiny_spec["backbone"] = {"name": "eva02_tiny_patch14_224", "params": dict(TINY)}
    model = build(validate_spec(tiny_spec)).model
    logits, out = model(torch.rand(2, 3, 32, 32))
    loss = logits.sum() + sum(out.losses.values())
    loss.backward()
    assert torch.isfinite(loss) and out.losses
    assert model.backbone.model.blocks[0].attn.qkv.weight.grad is not None


@pytest.mark.parametrize("name", ["mobilenetv3_small_050", "lcnet_050"])
def test_a_cnn_whose_head_has_a_hidden_layer_trains_an_mae_step(tiny_spec, name):
    """MobileNetV3/V4, GhostNet, LCNet and HGNetV2 failed the backbone contract: timm's pooled
    features pass the head's own hidden layer (head_hidden_size, e.g. 1024), wider than the feature
    map (num_features) whose width the masked path's tokens have. Their pooled features are now the
    map's average: one width for both paths, the whole step trains."""
    tiny_spec["backbone"] = {"name": name}
    tiny_spec["data"]["params"]["image_size"] = 64  # a 2×2 map at its reduction of 32: MAE hides 3 of 4
    model = build(validate_spec(tiny_spec)).model  # the dry check of the contract passes
    backbone = model.backbone
    assert backbone.model.head_hidden_size != backbone.num_features
    images = torch.rand(2, 3, 64, 64)
    pooled = backbone.forward_pooled(images)
    assert pooled.shape == (2, backbone.num_features)
    torch.testing.assert_close(pooled, backbone.model.forward_features(images).mean(dim=(2, 3)))
    # timm's own pooling of the map, before its head's hidden layer
    torch.testing.assert_close(pooled, backbone.model.global_pool(backbone.model.forward_features(images)).flatten(1))
    logits, out = model(images)
    loss = logits.sum() + sum(out.losses.values())
    loss.backward()
    assert torch.isfinite(loss) and out.losses


# --- Issue 16 item 14: kwargs and img_size ------------------------------------------------------------


@pytest.mark.parametrize("key, value", [("img_size", 32), ("drop_path_rate", 0.1), ("num_classes", 2)])
def test_kwargs_repeating_a_named_param_is_a_spec_error(key, value):
    """Issue 16 item 14: `kwargs: {img_size: …}` beside the named params was a raw TypeError."""
    with pytest.raises(SpecError) as info:
        tiny_vit(kwargs={key: value})
    [(where, message)] = info.value.problems
    assert where == "params.kwargs" and f"'{key}'" in message
    assert ("named param" in message) == (key != "num_classes")


def test_img_size_takes_height_and_width():
    """Issue 16 item 14: non-square ViTs could not be configured (img_size took an int)."""
    backbone = tiny_vit(img_size=[32, 48])
    assert backbone.image_size == (32, 48) and backbone.grid_size((32, 48)) == (4, 6)
    mask = torch.zeros(2, 24, dtype=torch.bool)
    mask[:, :12] = True
    images = torch.rand(2, 3, 32, 48)
    assert backbone.forward_masked(images, mask).shape == (2, 24, 32)
    assert backbone.forward_pooled(images).shape == (2, 32)
    with pytest.raises(SpecError, match="img_size"):
        tiny_vit(img_size=[32, 0])


# --- metadata on the meta device ---------------------------------------------------------------------


def test_backbones_build_on_the_meta_device_without_reading_weights(tmp_path):
    """Validation builds the backbone on the meta device to read its metadata: instantly, even
    ViT-H, and without reading (here: unreadable) weights."""
    unreadable = tmp_path / "weights.safetensors"
    unreadable.write_bytes(b"not a weights file")
    with torch.device("meta"):
        huge = lssat.create("backbone", "vit_huge_patch14_224", weights=str(unreadable))
        cnn = lssat.create("backbone", "resnet18", in_chans=4)
        eva = lssat.create("backbone", "eva02_tiny_patch14_224", img_size=[28, 56])
    assert next(huge.parameters()).is_meta
    assert (huge.num_features, huge.in_chans, huge.patch_size, huge.image_size) == (1280, 3, 14, (224, 224))
    assert (cnn.num_features, cnn.in_chans, cnn.patch_size, cnn.masking) == (512, 4, 32, "pixels")
    assert (eva.patch_size, eva.image_size) == (14, (28, 56))


# --- Issue 13 item 1: pretrained weights the timm way, through the Hugging Face cache ----------------

DEFAULT_TAG = "vit_tiny_patch16_224.augreg_in21k_ft_in1k"  # timm's default tag of vit_tiny_patch16_224


@pytest.fixture
def hub_cache(tmp_path, monkeypatch):
    """An empty Hugging Face cache, offline: nothing can reach the network."""
    from huggingface_hub import constants

    cache = tmp_path / "hub"
    cache.mkdir()
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    # huggingface_hub reads both variables once, at import
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(cache))
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    return cache


def cache_weights(cache, model_with_tag, state):
    """Lay ``state`` out as `hf download timm/<model_with_tag>` leaves it in the cache."""
    commit = "3f2a9c1b5d7e8f0a1b2c3d4e5f6a7b8c9d0e1f2a"
    repo = cache / f"models--timm--{model_with_tag}"
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(commit)
    snapshot = repo / "snapshots" / commit
    snapshot.mkdir(parents=True)
    save_file(state, str(snapshot / "model.safetensors"))


@pytest.mark.parametrize(
    "name, pretrained, cached",
    [
        ("vit_tiny_patch16_224", True, DEFAULT_TAG),
        ("vit_tiny_patch16_224", "augreg_in21k", "vit_tiny_patch16_224.augreg_in21k"),
        ("vit_tiny_patch16_224.augreg_in21k", None, "vit_tiny_patch16_224.augreg_in21k"),
    ],
    ids=["default-tag", "tag", "name.tag"],
)
def test_pretrained_loads_the_cached_weights_offline(hub_cache, name, pretrained, cached):
    """Issue 13 item 1: `pretrained: true`, a tag, or `name.tag` load through timm's hub cache."""
    state = timm_state(num_classes=1000)  # as timm ships them: with the ImageNet classifier
    cache_weights(hub_cache, cached, state)
    assert_holds(tiny_vit(name, pretrained=pretrained), state)


def test_a_run_starts_from_the_cached_pretrained_weights(hub_cache, tiny_spec):
    """Issue 13 item 1: the spec's backbone holds exactly the cached file's weights, its input
    conv adapted as timm does when in_chans differs."""
    state = timm_state(num_classes=1000)
    cache_weights(hub_cache, DEFAULT_TAG, state)
    tiny_spec["backbone"]["params"]["pretrained"] = True
    assert_holds(build(validate_spec(tiny_spec)).model.backbone, state)
    gray = tiny_vit(pretrained=True, in_chans=1).model.patch_embed.proj.weight
    torch.testing.assert_close(gray, state["patch_embed.proj.weight"].sum(dim=1, keepdim=True))


def test_an_offline_cache_miss_names_the_tag_the_cache_and_the_command(hub_cache):
    """Issue 13 item 1: nothing cached and offline is one clear error."""
    with pytest.raises(ComponentError) as info:
        tiny_vit(pretrained=True)
    message = str(info.value)
    assert f"'{DEFAULT_TAG}'" in message and str(hub_cache) in message
    assert f"`hf download timm/{DEFAULT_TAG}`" in message and "weights:" in message


def test_an_offline_cache_miss_exits_2_without_a_traceback(tmp_path, tiny_spec):
    """Issue 13 item 1: the same error from `lssat run`, with HF_HUB_CACHE set before any import."""
    tiny_spec["backbone"]["params"]["pretrained"] = True
    spec = tmp_path / "spec.yaml"
    spec.write_text(yaml.safe_dump(tiny_spec))
    cache = tmp_path / "empty-cache"
    env = {**os.environ, "HF_HUB_CACHE": str(cache), "HF_HUB_OFFLINE": "1"}
    command = [sys.executable, "-m", "lssat_framework", "run", str(spec), "--out", str(tmp_path / "run")]
    result = subprocess.run(command, capture_output=True, text=True, env=env)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert f"hf download timm/{DEFAULT_TAG}" in result.stderr and str(cache) in result.stderr


def test_pretrained_tags_are_checked_by_name(tmp_path):
    """Issue 13 item 1: an unknown tag lists the known ones; two sources of weights are refused."""
    with pytest.raises(ComponentError, match=r"its tags \(the default first\): augreg_in21k_ft_in1k, augreg_in21k$"):
        tiny_vit(pretrained="in1k")
    with pytest.raises(ComponentError, match="names the tag 'augreg_in21k' but pretrained says"):
        tiny_vit("vit_tiny_patch16_224.augreg_in21k", pretrained="augreg_in21k_ft_in1k")
    path = tmp_path / "weights.safetensors"
    save_file(timm_state(num_classes=0), str(path))
    with pytest.raises(SpecError, match="two sources of weights"):
        tiny_vit(weights=str(path), pretrained="augreg_in21k")


def test_pretrained_weights_are_not_fetched_on_the_meta_device(hub_cache):
    """Issue 13 item 1 with validation's meta build: metadata only, the cache is not read."""
    with torch.device("meta"):
        backbone = tiny_vit(pretrained=True)
    assert backbone.num_features == 32 and next(backbone.parameters()).is_meta
