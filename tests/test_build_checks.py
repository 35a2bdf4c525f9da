"""Every build-time check ``run`` would make, run by ``lssat validate`` without reading data:
image size and stride, the MAE grid, channels, descriptors' image size, the best metric."""

import dataclasses

import pytest
import torch
from pydantic import BaseModel

from lssat_framework import hookimpl
from lssat_framework.model.compat import _build_on_meta_device, check_best_metric, check_compatibility
from lssat_framework.errors import SpecError
from lssat_framework.interfaces import DatasetInfo, DatasetSource, Descriptor, LabelInfo
from lssat_framework.model import build
from lssat_framework.plugins import PluginManager
from lssat_framework.spec import load_spec, validate_spec
from lssat_mae.objectives import MaskedAutoencoder, NoObjective, masked_count

from conftest import ROOT
from test_validation import problems_of

TINY_CNN = {"name": "resnet18", "params": {}}


# ----------------------------------------------------------------- build-time checks, no data
def test_validate_refuses_an_image_size_off_the_cnn_stride(tiny_spec):
    """Issue 16, messages: validate said "valid" for a spec that run refused while building."""
    tiny_spec["backbone"] = TINY_CNN
    tiny_spec["data"]["params"]["image_size"] = 48
    resolved = validate_spec(tiny_spec)
    with pytest.raises(SpecError) as err:
        check_compatibility(resolved)
    assert "not a multiple of the patch size 32" in problems_of(err.value)["data.params.image_size"]


def test_validate_refuses_a_vit_built_for_another_size_and_too_few_channels(tiny_spec):
    """Issue 16, messages: ViT img_size and in_chans, checked without data."""
    tiny_spec["backbone"]["params"].update(img_size=64, in_chans=1)
    with pytest.raises(SpecError) as err:
        check_compatibility(validate_spec(tiny_spec))
    problems = problems_of(err.value)
    assert "set img_size: 32" in problems["backbone.params.img_size"]
    assert "modality 'rgb' (classify and ssl mask), which has 3 channels" in problems["backbone.params.in_chans"]


def test_compatibility_is_checked_without_the_dataset_on_disk(tmp_path, tiny_spec):
    """Issue 16, messages: the checks need the data's image size only, from the data params."""
    tiny_spec["data"] = {"name": "image-folder", "params": {"root": str(tmp_path / "absent"), "image_size": 36}}
    tiny_spec["train"]["best_metric"] = "no-such-metric"  # the dataset cannot be built: skipped
    resolved = validate_spec(tiny_spec)
    with pytest.raises(SpecError) as err:
        check_compatibility(resolved)
    assert set(problems_of(err.value)) == {"backbone.params.img_size", "data.params.image_size"}


def test_the_backbone_is_built_on_the_meta_device_or_else_on_the_cpu(tiny_spec):
    """Issue 16, messages: validation builds no weights (ViT-H instantly); a factory that cannot
    build on the meta device is built on the CPU."""
    resolved = validate_spec(tiny_spec)
    backbone = _build_on_meta_device(resolved.components["backbone"])
    assert {p.device.type for p in backbone.parameters()} == {"meta"}

    class NeedsRealTensors:
        def __init__(self):
            torch.zeros(1).item()  # impossible on the meta device

    component = resolved.components["backbone"]
    fallback = dataclasses.replace(component, component=dataclasses.replace(component.component, factory=NeedsRealTensors), params={})
    assert isinstance(_build_on_meta_device(fallback), NeedsRealTensors)


def test_every_shipped_spec_passes_the_compatibility_checks(capsys):
    """``lssat validate`` on every shipped spec keeps passing (the study's 45 variants included)."""
    from lssat_framework import cli

    for path in sorted((ROOT / "lssat_framework" / "specs").rglob("*.yaml")):
        assert cli.main(["validate", str(path)]) == 0, capsys.readouterr().err


# ------------------------------------------------------------------------- MAE grid (item 9)
def test_mae_on_a_one_patch_grid_is_refused_with_the_arithmetic(tiny_spec):
    """Issue 16 item 9: the quickstart at image_size 32 (ResNet-18: a 1×1 grid) trained on a
    0/0 = NaN loss."""
    resolved = load_spec(ROOT / "lssat_framework" / "specs" / "quickstart.yaml", ["data.params.image_size=32", "data.params.train=8", "data.params.val=8"])
    for check in (check_compatibility, build):
        with pytest.raises(SpecError) as err:
            check(resolved)
        message = problems_of(err.value)["ssl.params"]
        assert "1×1 grid" in message and "1 - int(1×(1 - 0.75)) = 1 of 1" in message


def test_mae_hides_at_least_one_patch_and_shows_at_least_one():
    """Issue 16 item 9: MAE's count, N - int(N·(1 - ratio)), is moved into [1, N - 1]."""
    assert masked_count(4, 0.1) == 1 and masked_count(4, 0.99) == 3 and masked_count(2, 0.75) == 1
    assert masked_count(196, 0.9) == 177 and masked_count(196, 0.75) == 147  # MAE's: round() gave 176 at 0.9
    MaskedAutoencoder(mask_ratio=0.9).check_grid((1, 2))
    with pytest.raises(ValueError, match="at least 2 patches"):
        MaskedAutoencoder().check_grid((1, 1))


# ------------------------------------------------------------- channels (item 10), descriptors
def test_a_modality_that_is_only_reconstructed_may_have_more_channels_than_in_chans(tiny_spec):
    """Issue 16 item 10: reconstructing HOG (9 channels) was refused with "set in_chans: 9"."""
    tiny_spec["ssl"]["params"]["reconstruct"] = ["hog"]
    resolved = validate_spec(tiny_spec)
    check_compatibility(resolved)
    model = build(resolved).model
    _, out = model(torch.rand(2, 3, 32, 32))
    assert torch.isfinite(out.losses["rec_hog"]) and out.predictions["hog"].shape[1] == 9
    tiny_spec["ssl"]["params"]["mask"] = "hog"  # fed to the backbone: must fit in_chans
    with pytest.raises(SpecError, match=r"'hog' \(ssl mask\), which has 9 channels, but takes 3; set in_chans: 9"):
        check_compatibility(validate_spec(tiny_spec))


def test_objectives_say_which_modality_the_backbone_reads():
    """The contract the item-10 check reads: ``mask_modality`` is the masked input; None for the
    baseline, which feeds the backbone nothing of its own."""
    assert MaskedAutoencoder(mask="ldp", reconstruct=["hog"]).mask_modality == "ldp"
    assert NoObjective().mask_modality is None


class Blocks(Descriptor):
    """Mean of 8×8 blocks: only for image sizes divisible by 8."""

    channels = 1

    def check_image_size(self, image_size):
        if image_size[0] % 8 or image_size[1] % 8:
            raise ValueError(f"blocks of 8 do not tile {image_size[0]}×{image_size[1]}; use a multiple of 8")

    def forward(self, images):
        return torch.nn.functional.avg_pool2d(images.mean(1, keepdim=True), 8).repeat_interleave(8, 2).repeat_interleave(8, 3)


class BlocksParams(BaseModel):
    pass


class BlocksPlugin:
    @hookimpl
    def register_descriptors(self, register):
        register("blocks-of-8", Blocks, BlocksParams)


def test_descriptors_get_the_build_time_check_of_their_image_size(tiny_spec):
    """Issue 16 item 24: a descriptor that cannot encode the image size passed validate."""
    manager = PluginManager()
    manager.add_plugin(BlocksPlugin(), name="blocks")
    tiny_spec["descriptors"]["blocks"] = {"name": "blocks-of-8"}
    tiny_spec["ssl"]["params"]["reconstruct"] = ["blocks"]
    check_compatibility(validate_spec(tiny_spec, manager=manager))  # 32 is a multiple of 8
    tiny_spec["data"]["params"]["image_size"] = 36
    tiny_spec["backbone"]["params"].update(img_size=36, patch_size=4)
    with pytest.raises(SpecError) as err:
        check_compatibility(validate_spec(tiny_spec, manager=manager))
    assert problems_of(err.value) == {"descriptors.blocks.params": "modality 'blocks' at 36×36 images: blocks of 8 do not tile 36×36; use a multiple of 8"}


# ------------------------------------------------------------------------------ best metric
class FourCorners(DatasetSource):
    def __init__(self):
        self.info = DatasetInfo(labels={"fake": LabelInfo("binary", ["real", "fake"])}, image_size=(32, 32))


class NotOnThisMachine(DatasetSource):
    def __init__(self):
        from lssat_framework.errors import DataError

        raise DataError("the data lives on the cluster")


class DataPlugin:
    @hookimpl
    def register_datasets(self, register):
        register("four-corners", FourCorners)
        register("not-here", NotOnThisMachine)


def best_metric_spec(tiny_spec, dataset, best_metric):
    manager = PluginManager()
    manager.add_plugin(DataPlugin(), name="data")
    tiny_spec["data"] = {"name": dataset}
    tiny_spec["train"]["best_metric"] = best_metric
    return validate_spec(tiny_spec, manager=manager)


def test_best_metric_is_checked_at_validation(tiny_spec, monkeypatch):
    """Issue 16, messages: an unknown ``train.best_metric`` was refused after the first epoch."""
    task_class = type(validate_spec(tiny_spec).components["task"].build())
    monkeypatch.setattr(task_class, "metric_names", lambda self, info: ["acc", "auc", "eer"], raising=False)
    with pytest.raises(SpecError) as err:
        check_compatibility(best_metric_spec(tiny_spec, "four-corners", "val_aucc"))
    assert problems_of(err.value)["train.best_metric"].startswith("'aucc' is not a metric of this task; did you mean 'auc'? it reports acc, auc, eer")
    check_compatibility(best_metric_spec(tiny_spec, "not-here", "aucc"))  # no data here: the run checks


def test_best_metric_accepts_the_name_metrics_jsonl_shows(tiny_spec, monkeypatch):
    """Issue 16, messages: ``val_auc`` (as in metrics.jsonl) and ``auc`` name the same metric."""
    resolved = best_metric_spec(tiny_spec, "four-corners", "val_auc")
    assert resolved.spec.train.best_metric == "auc"
    task = resolved.components["task"].build()
    monkeypatch.setattr(type(task), "metric_names", lambda self, info: ["auc", "eer"], raising=False)
    check_compatibility(resolved)
    check_best_metric(resolved, task, FourCorners().info)
    monkeypatch.setattr(type(task), "metric_names", lambda self, info: None, raising=False)  # not known in advance
    check_best_metric(best_metric_spec(tiny_spec, "four-corners", "anything"), task, FourCorners().info)


def test_the_default_decoder_has_ssats_16_heads_at_either_size(tiny_spec):
    """The default was described as SSAT's but had 4 heads for small encoders; SSAT uses 16."""
    from lssat_framework.model import build

    del tiny_spec["ssl"]["params"]["decoder_heads"]
    tiny_spec["ssl"]["params"]["decoder_dim"] = 128
    objective = build(validate_spec(tiny_spec)).model.objective
    assert objective.decoder_blocks[0].attn.num_heads == 16
