"""Issue 23 items 1 and 8: what the backbone reads and what the decoder predicts, normalised once.

The backbone gets ``(x - mean) / std`` with the mean and std of its weights (a timm pretrained
tag's data config; ImageNet's for random weights), descriptor maps the averages of those values
on every channel; the reconstruction grid shows [0, 1] pictures again; several reconstructed
modalities average their losses. docs/method.md states the rules."""

import numpy as np
import pytest
import timm
import torch
from PIL import Image
from safetensors.torch import save_file

import lssat_framework as lssat
from lssat_framework.model import build
from lssat_framework.spec import validate_spec
from lssat_framework.train.pictures import save_reconstruction_grid

IMAGENET_MEAN, IMAGENET_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
GRAY_MEAN, GRAY_STD = sum(IMAGENET_MEAN) / 3, sum(IMAGENET_STD) / 3  # the descriptor rule
TINY = {"img_size": 32, "patch_size": 8, "depth": 1, "embed_dim": 32, "num_heads": 2}


@pytest.fixture
def hub_cache(tmp_path, monkeypatch):
    """An empty, offline Hugging Face cache."""
    from huggingface_hub import constants

    cache = tmp_path / "hub"
    cache.mkdir()
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(cache))
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    return cache


def cache_timm_weights(cache, name_with_tag, arch, **params):
    """Weights of ``arch`` laid out where `hf download timm/<name_with_tag>` puts them."""
    commit = "0123456789abcdef0123456789abcdef01234567"
    repo = cache / f"models--timm--{name_with_tag}"
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(commit)
    (repo / "snapshots" / commit).mkdir(parents=True)
    save_file(timm.create_model(arch, num_classes=0, **params).state_dict(), str(repo / "snapshots" / commit / "model.safetensors"))


def first_layer_inputs(model, layer):
    """Call ``model`` on images and collect what ``layer`` (the timm model's first layer) reads."""
    seen = []
    handle = layer.register_forward_pre_hook(lambda module, args: seen.append(args[0].detach().clone()))
    return seen, handle


def per_channel(values, channels=3):
    return torch.tensor(values).view(1, channels, 1, 1)


def test_a_pretrained_backbone_reads_its_data_config_normalised_input(hub_cache, tiny_spec):
    """The study's `pretrained: mae`: ImageNet's mean and std, in the task pass and the masked pass."""
    cache_timm_weights(hub_cache, "vit_base_patch16_224.mae", "vit_base_patch16_224", **TINY)
    tiny_spec["backbone"] = {"name": "vit_base_patch16_224", "params": {**TINY, "pretrained": "mae"}}
    tiny_spec["ssl"]["params"]["reconstruct"] = ["rgb"]
    model = build(validate_spec(tiny_spec)).model.eval()
    assert timm.data.resolve_model_data_config(model.backbone.model)["mean"] == IMAGENET_MEAN
    seen, handle = first_layer_inputs(model, model.backbone.model.patch_embed.proj)
    images = torch.rand(2, 3, 32, 32)
    model(images)
    handle.remove()
    expected = (images - per_channel(IMAGENET_MEAN)) / per_channel(IMAGENET_STD)
    assert len(seen) == 2  # the task pass and the masked pass
    for x in seen:
        torch.testing.assert_close(x, expected)
    stats = model.input_normalisation()["rgb"]
    assert stats["mean"] == pytest.approx(IMAGENET_MEAN) and stats["std"] == pytest.approx(IMAGENET_STD)


def test_a_tag_with_other_statistics_is_followed(hub_cache):
    """An augreg tag was trained on (x - 0.5) / 0.5: that is what it gets, not ImageNet's."""
    cache_timm_weights(hub_cache, "vit_tiny_patch16_224.augreg_in21k", "vit_tiny_patch16_224", **TINY)
    backbone = lssat.create("backbone", "vit_tiny_patch16_224", pretrained="augreg_in21k", **TINY)
    assert backbone.image_normalisation() == {"mean": (0.5, 0.5, 0.5), "std": (0.5, 0.5, 0.5)}


def test_random_weights_and_the_study_spec_take_imagenet_statistics():
    """Random weights: ImageNet's, not the default tag's (0.5 for a ViT); the study's backbone,
    `vit_base_patch16_224` with `pretrained: mae`, ImageNet's from its config (read on the meta
    device, without its weights)."""
    scratch = lssat.create("backbone", "vit_tiny_patch16_224", **TINY)
    assert timm.data.resolve_model_data_config(scratch.model)["mean"] == (0.5, 0.5, 0.5)
    assert scratch.image_normalisation() == {"mean": IMAGENET_MEAN, "std": IMAGENET_STD}
    with torch.device("meta"):
        study = lssat.create("backbone", "vit_base_patch16_224", img_size=224, drop_path_rate=0.1, pretrained="mae")
    assert study.image_normalisation() == {"mean": IMAGENET_MEAN, "std": IMAGENET_STD}


def test_a_cnn_from_scratch_reads_imagenet_normalised_input(tiny_spec):
    """The quickstart's ResNet-18: its first convolution reads ImageNet-normalised RGB."""
    tiny_spec["backbone"] = {"name": "resnet18", "params": {}}
    tiny_spec["data"]["params"]["image_size"] = 64
    model = build(validate_spec(tiny_spec)).model.eval()
    seen, handle = first_layer_inputs(model, model.backbone.model.conv1)
    images = torch.randint(0, 256, (2, 3, 64, 64), dtype=torch.uint8)  # as the readers give them
    model(images, ssl=False)
    handle.remove()
    torch.testing.assert_close(seen[0], (images / 255 - per_channel(IMAGENET_MEAN)) / per_channel(IMAGENET_STD))


def test_descriptor_maps_take_the_average_mean_and_std_on_every_channel(tiny_spec):
    """MLDP-RLDP-CLDP: the 1-channel LDP map, normalised by the averages of ImageNet's mean and
    std, tiled to the backbone's 3 channels, in both passes; its target is in the same space."""
    tiny_spec["classify"] = "ldp"
    tiny_spec["ssl"]["params"]["mask"] = "ldp"
    model = build(validate_spec(tiny_spec)).model.eval()
    seen, handle = first_layer_inputs(model, model.backbone.model.patch_embed.proj)
    images = torch.rand(2, 3, 32, 32)
    model(images)
    handle.remove()
    ldp = model.modalities(images, ["ldp"])["ldp"]
    expected = ((ldp - GRAY_MEAN) / GRAY_STD).expand(-1, 3, -1, -1)
    assert len(seen) == 2
    for x in seen:
        torch.testing.assert_close(x, expected)
    assert model.input_normalisation() == {"ldp": {"mean": [pytest.approx(GRAY_MEAN)], "std": [pytest.approx(GRAY_STD)]}}


def test_rgb_keeps_per_channel_values_beside_a_descriptor(tiny_spec):
    """MRGB-RRGBLDP-CRGB: what a run records, one entry per modality."""
    tiny_spec["ssl"]["params"]["reconstruct"] = ["rgb", "ldp"]
    stats = build(validate_spec(tiny_spec)).model.input_normalisation()
    assert set(stats) == {"rgb", "ldp"}
    assert stats["rgb"]["mean"] == pytest.approx(IMAGENET_MEAN) and stats["rgb"]["std"] == pytest.approx(IMAGENET_STD)
    assert stats["ldp"] == {"mean": [pytest.approx(GRAY_MEAN)], "std": [pytest.approx(GRAY_STD)]}


def masked_mse(prediction, target, mask, patch=8):
    """MSE per patch, averaged over the hidden patches (B×C×H×W maps, B×N mask)."""
    b, c, h, w = target.shape
    per_pixel = ((prediction - target) ** 2).reshape(b, c, h // patch, patch, w // patch, patch)
    per_patch = per_pixel.mean(dim=(1, 3, 5)).reshape(b, -1)
    return (per_patch * mask).sum() / mask.sum()


def test_several_reconstructed_modalities_average_their_losses(tiny_spec):
    """Reconstructing RGB and LDP weighs the SSL term as one modality does: each loss term is its
    modality's masked MSE over their number, so that their sum is the mean (not the sum)."""
    tiny_spec["ssl"]["params"]["reconstruct"] = ["rgb", "ldp"]
    model = build(validate_spec(tiny_spec)).model.eval()
    maps = model.modalities(torch.rand(2, 3, 32, 32), ["rgb", "ldp"])
    inputs = {"rgb": (maps["rgb"] - per_channel(IMAGENET_MEAN)) / per_channel(IMAGENET_STD), "ldp": (maps["ldp"] - GRAY_MEAN) / GRAY_STD}
    with torch.no_grad():
        out = model.objective(model.backbone, inputs)
    mse = {name: masked_mse(out.predictions[name], inputs[name], out.mask.float()) for name in ("rgb", "ldp")}
    assert set(out.losses) == {"rec_rgb", "rec_ldp"}
    for name in ("rgb", "ldp"):
        torch.testing.assert_close(out.losses[f"rec_{name}"], mse[name] / 2)
    torch.testing.assert_close(sum(out.losses.values()), (mse["rgb"] + mse["ldp"]) / 2)


def test_the_model_reconstructs_the_normalised_modalities(tiny_spec):
    """The targets are the modalities as the backbone reads them: normalised by the rule."""
    tiny_spec["ssl"]["params"]["reconstruct"] = ["rgb", "ldp"]
    model = build(validate_spec(tiny_spec)).model.eval()
    images = torch.rand(2, 3, 32, 32)
    with torch.no_grad():
        _, out = model(images)
    maps = model.modalities(images, ["rgb", "ldp"])
    targets = {"rgb": (maps["rgb"] - per_channel(IMAGENET_MEAN)) / per_channel(IMAGENET_STD), "ldp": (maps["ldp"] - GRAY_MEAN) / GRAY_STD}
    for name in ("rgb", "ldp"):
        torch.testing.assert_close(out.losses[f"rec_{name}"], masked_mse(out.predictions[name], targets[name], out.mask.float()) / 2)


def grid_cell(png, row, col, size=32, padding=1):
    """One picture of a torchvision grid (nrow = batch), as floats in [0, 1]."""
    pixels = torch.from_numpy(np.array(Image.open(png).convert("RGB"))).permute(2, 0, 1).float() / 255
    top, left = padding + row * (size + padding), padding + col * (size + padding)
    return pixels[:, top : top + size, left : left + size]


def test_the_reconstruction_grid_shows_predictions_in_zero_to_one_units(tiny_spec, tmp_path):
    """The objective predicts normalised RGB; the grid's reconstruction row undoes that
    (prediction · std + mean, clamped to [0, 1]) in the hidden patches."""
    tiny_spec["ssl"]["params"]["reconstruct"] = ["rgb"]
    model = build(validate_spec(tiny_spec)).model
    images = torch.rand(2, 3, 32, 32)
    assert save_reconstruction_grid(model, images, tmp_path / "grid.png")
    with torch.no_grad(), torch.random.fork_rng():  # the grid's own draw: seed 0, eval mode
        torch.manual_seed(0)
        _, out = model.eval()(images)
    hidden = model.backbone.pixel_mask(out.mask, (32, 32))
    expected = (out.predictions["rgb"] * per_channel(IMAGENET_STD) + per_channel(IMAGENET_MEAN)).clamp(0, 1)
    assert out.predictions["rgb"].min() < -0.1  # normalised: not a picture as it stands
    for sample in range(2):
        shown = grid_cell(tmp_path / "grid.png", row=3, col=sample)
        where = hidden[sample].expand(3, -1, -1).bool()
        torch.testing.assert_close(shown[where], expected[sample][where], atol=1 / 255 + 1e-6, rtol=0)
