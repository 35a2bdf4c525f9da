"""The timm backbone: strict weights, EVA/RoPE ViTs, its params, building on the meta device."""

import pytest
import timm
import torch
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
