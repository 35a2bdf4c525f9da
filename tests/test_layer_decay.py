"""Layer-wise lr decay and weight decay equal to timm's own, tensor by tensor.

The reference is ``timm.optim.create_optimizer_v2(model, layer_decay=0.75)`` on the same timm
model with its classifier: the backbone's tensors must get timm's lr scale and weight decay, and
the task head timm's classifier's (the top layer). Models whose final norm lies outside timm's
layer grouping (``fc_norm`` of average-pooled ViTs, ConvNeXt's ``head.norm``) gave every backbone
layer one extra factor of 0.75 before."""

import pytest
import timm
from timm.optim import create_optimizer_v2
import torch

import lssat_framework as lssat
from lssat_framework.spec import TrainSpec
from lssat_framework.train.optim import make_optimizer

MODELS = {
    "vit_tiny_patch16_224": dict(img_size=32, patch_size=8, depth=2, embed_dim=32, num_heads=2),  # class token pooling
    "vit_small_patch16_224": dict(img_size=32, patch_size=8, depth=2, embed_dim=32, num_heads=2, global_pool="avg"),  # average pooling: fc_norm
    "convnext_atto": dict(),
    "eva02_tiny_patch14_224": dict(img_size=28, depth=2),
    "resnet18": dict(),
}


class WithHead(torch.nn.Module):
    """What the optimiser sees of an L-SSAT model: the backbone and a task head."""

    def __init__(self, backbone, classes):
        super().__init__()
        self.backbone, self.head = backbone, torch.nn.Linear(backbone.num_features, classes)


def scale_and_decay(optimizer, model):
    of = {}
    for group in optimizer.param_groups:
        for param in group["params"]:
            of[id(param)] = (group.get("lr_scale", 1.0), group["weight_decay"])
    return {name: of[id(param)] for name, param in model.named_parameters()}


@pytest.mark.parametrize("name", list(MODELS))
def test_lr_scale_and_weight_decay_equal_timms_for_every_tensor(name):
    torch.manual_seed(0)
    reference = timm.create_model(name, num_classes=3, **MODELS[name])
    expected = scale_and_decay(create_optimizer_v2(reference, opt="adamw", lr=1e-3, weight_decay=0.05, layer_decay=0.75), reference)
    params = dict(MODELS[name])
    if "global_pool" in params:
        params["kwargs"] = {"global_pool": params.pop("global_pool")}
    ours = WithHead(lssat.create("backbone", name, **params), classes=3)
    got = scale_and_decay(make_optimizer(ours, TrainSpec(epochs=1, batch_size=2, layer_decay=0.75, weight_decay=0.05), lr=1e-3, backbone_name=name), ours)
    classifier = reference.pretrained_cfg["classifier"]
    compared = 0
    for ours_name, value in got.items():
        if ours_name.startswith("head."):
            timm_name = f"{classifier}.{ours_name.removeprefix('head.')}"
        else:
            timm_name = ours_name.removeprefix("backbone.model.")
        if timm_name not in expected:
            assert "mask_token" in ours_name, ours_name  # the masked path's own token: no timm counterpart
            continue
        assert value[0] == pytest.approx(expected[timm_name][0], rel=1e-12, abs=0), (ours_name, value, expected[timm_name])
        assert value[1] == expected[timm_name][1], (ours_name, value, expected[timm_name])
        compared += 1
    assert compared >= len(expected) - 2  # every tensor of the backbone and the classifier's
