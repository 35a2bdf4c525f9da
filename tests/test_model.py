"""The L-SSAT model: masking, the masked-only loss, both gradients, every shipped configuration."""

import pytest
import torch
from safetensors.torch import save_file

import lssat_framework as lssat
from lssat_framework.model import build
from lssat_framework.spec import load_spec, validate_spec
from lssat_mae.objectives import patchify, random_mask, unpatchify

from conftest import ROOT

CONFIGS = sorted((ROOT / "lssat_framework" / "specs" / "configs").glob("*.yaml"))
TINY_VIT = {"name": "vit_tiny_patch16_224", "params": {"img_size": 32, "patch_size": 8, "depth": 1, "embed_dim": 32, "num_heads": 2}}
TINY_CNN = {"name": "resnet18", "params": {}}


def tiny_model(spec, backbone=None, image_size=32):
    spec["backbone"] = backbone or TINY_VIT
    spec["data"]["params"]["image_size"] = image_size
    return build(validate_spec(spec))


def test_random_mask_keeps_the_exact_fraction_per_sample():
    torch.manual_seed(0)
    mask = random_mask(16, 64, 0.75, torch.device("cpu"))
    assert mask.shape == (16, 64) and mask.dtype == torch.bool
    assert mask.sum(dim=1).tolist() == [48] * 16
    assert len({tuple(row.tolist()) for row in mask}) == 16  # drawn per sample


def test_patchify_round_trips():
    images = torch.rand(2, 3, 16, 24)
    patches = patchify(images, 8)
    assert patches.shape == (2, 6, 8 * 8 * 3)
    torch.testing.assert_close(unpatchify(patches, 8, 3, 2, 3), images)


def test_vit_encoder_sees_only_the_visible_tokens(tiny_spec):
    built = tiny_model(tiny_spec)
    seen = []
    built.model.backbone.model.blocks[0].register_forward_pre_hook(lambda module, args: seen.append(args[0].shape[1]))
    built.model(torch.rand(2, 3, 32, 32))
    assert seen == [1 + 16, 1 + 4]  # task pass: class token + 16 patches; masked pass: 25 % visible


def test_the_model_takes_image_bytes_as_the_readers_give_them(tiny_spec):
    model = tiny_model(tiny_spec).model.eval()
    as_bytes = torch.randint(0, 256, (2, 3, 32, 32), dtype=torch.uint8)
    outputs = []
    for images in (as_bytes, as_bytes.float() / 255):
        torch.manual_seed(0)  # the same mask for both
        logits, out = model(images)
        outputs.append((logits, out.losses["rec_ldp"]))
    torch.testing.assert_close(outputs[0], outputs[1])


def test_loss_counts_masked_patches_only(tiny_spec):
    model = tiny_model(tiny_spec).model.eval()
    images = torch.rand(2, 3, 32, 32)
    inputs = model.modalities(images, ["rgb", "ldp"])

    def loss(target):
        torch.manual_seed(1)
        out = model.objective(model.backbone, {**inputs, "ldp": target})
        return out.losses["rec_ldp"], out.mask

    base, mask = loss(inputs["ldp"])
    visible = int((~mask[0]).nonzero()[0])
    masked = int(mask[0].nonzero()[0])

    def changed(patch):
        target = inputs["ldp"].clone()
        row, col = divmod(patch, 4)
        target[0, :, row * 8 : (row + 1) * 8, col * 8 : (col + 1) * 8] += 0.5
        return loss(target)[0]

    assert changed(visible).item() == base.item()
    assert changed(masked).item() != base.item()


def test_gradients_reach_the_backbone_from_both_losses(tiny_spec):
    built = tiny_model(tiny_spec)
    model, task = built.model, built.task
    weight = model.backbone.model.patch_embed.proj.weight
    logits, out = model(torch.rand(4, 3, 32, 32))
    task.loss(logits, torch.tensor([0, 1, 0, 1])).backward(retain_graph=True)
    assert weight.grad is not None and weight.grad.abs().sum() > 0
    model.zero_grad()
    out.losses["rec_ldp"].backward()
    assert weight.grad.abs().sum() > 0
    assert model.head.weight.grad is None or model.head.weight.grad.abs().sum() == 0


@pytest.mark.parametrize("backbone", [TINY_VIT, TINY_CNN], ids=["vit", "cnn"])
@pytest.mark.parametrize("config", CONFIGS, ids=[c.stem for c in CONFIGS])
def test_every_shipped_configuration_builds_and_trains_one_step(config, backbone):
    resolved = load_spec(config)
    raw = resolved.raw
    raw["backbone"] = backbone
    raw["data"]["params"].update(image_size=32 if backbone is TINY_VIT else 64, train=4, val=4)
    if raw["ssl"]["name"] == "mae":
        raw["ssl"]["params"].update(decoder_dim=32, decoder_depth=1, decoder_heads=2)
    built = build(validate_spec(raw))
    model, task = built.model, built.task
    images = torch.rand(2, 3, raw["data"]["params"]["image_size"], raw["data"]["params"]["image_size"])
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    logits, out = model(images)
    loss = raw["loss"]["task"] * task.loss(logits, torch.tensor([0, 1])) + raw["loss"]["ssl"] * sum(out.losses.values(), torch.zeros(()))
    loss.backward()
    optimizer.step()
    assert torch.isfinite(loss)
    assert bool(out.losses) == (raw["ssl"]["name"] == "mae")
    for prediction in out.predictions.values():
        assert prediction.shape[-2:] == images.shape[-2:]


def test_cnn_masks_pixels_on_its_output_stride():
    backbone = lssat.create("backbone", "resnet18")
    assert backbone.masking == "pixels" and backbone.patch_size == 32
    mask = torch.tensor([[True, False, False, True]])
    tokens = backbone.forward_masked(torch.rand(1, 3, 64, 64), mask)
    assert tokens.shape == (1, 4, backbone.num_features)


@pytest.mark.parametrize("suffix", ["safetensors", "pth"])
def test_weights_file_round_trips(tmp_path, suffix):
    source = lssat.create("backbone", "vit_tiny_patch16_224", img_size=32, patch_size=8, depth=1)
    path = tmp_path / f"weights.{suffix}"
    state = source.export_state_dict()
    save_file(state, str(path)) if suffix == "safetensors" else torch.save(state, path)
    loaded = lssat.create("backbone", "vit_tiny_patch16_224", img_size=32, patch_size=8, depth=1, weights=str(path))
    for key, value in state.items():
        torch.testing.assert_close(loaded.export_state_dict()[key], value)


def test_pretrained_without_a_local_file_is_a_clear_error_not_a_download():
    with pytest.raises(lssat.LssatError, match="cannot be downloaded"):  # offline, not in the cache
        lssat.create("backbone", "vit_tiny_patch16_224", pretrained=True)
    with pytest.raises(lssat.LssatError, match="weights"):
        lssat.create("backbone", "vit_tiny_patch16_224", weights="/no/such/file.safetensors")


def test_model_checks_image_size_and_channels(tiny_spec):
    tiny_spec["backbone"]["params"]["img_size"] = 64
    with pytest.raises(lssat.LssatError, match="set img_size: 32"):
        build(validate_spec(tiny_spec))
