"""A sweep's grid: every variant validated before any runs, the study's 45 variants named by
their axes, the data of every variant checked."""

import pytest

from lssat_framework.errors import SpecError
from lssat_framework.spec import load_spec

from conftest import ROOT
from sweep_fakes import write_spec


def test_sweep_variants_are_all_validated_before_any_runs(tmp_path, tiny_spec):
    from lssat_framework.sweep import expand

    tiny_spec["sweep"] = {"backbone.params.depth": [1, 0], "task.name": ["deepfake", "emotoin"]}
    with pytest.raises(SpecError) as err:
        expand(load_spec(write_spec(tmp_path, tiny_spec, "s.yaml")))
    text = str(err.value)
    assert "backbone.depth=0__task=deepfake" in text and "backbone.params.depth" in text and "did you mean 'emotion'" in text
    assert not (tmp_path / "runs").exists()


def test_the_study_spec_expands_to_its_45_valid_variants_named_by_their_axes():
    from lssat_framework.sweep import axis_kind, expand

    resolved = load_spec(ROOT / "lssat_framework" / "specs" / "study.yaml")
    variants = expand(resolved)  # validates every variant
    assert len(variants) == 3 * 5 * 3
    kinds = {key: axis_kind(key, values) for key, values in resolved.spec.sweep.items()}
    assert kinds == {"backbone.name": "backbone", "configuration": "setting", "task": "task"}
    # a backbone group that also gives each backbone its input size is still the backbone axis
    sized = {"resnet18": {"backbone.name": "resnet18", "data.params.image_size": 64}, "vit": {"backbone.name": "vit_tiny_patch16_224"}}
    assert axis_kind("backbone", sized) == "backbone"
    name, choice, variant = next(v for v in variants if v[1]["configuration"] == "MLDP-RRGB-CRGB" and v[1]["task"] == "emotion")
    raw = variant.raw
    assert raw["ssl"]["params"]["mask"] == "ldp" and raw["ssl"]["params"]["reconstruct"] == ["rgb"]
    assert raw["data"]["name"] == "affectnet" and raw["task"]["name"] == "emotion"
    assert name == f"backbone={choice['backbone.name']}__configuration=MLDP-RRGB-CRGB__task=emotion"
    assert resolved.spec.launcher.gpus_per_node >= 1 and resolved.spec.launcher.timeout_min > 60


def test_check_data_of_a_single_spec_and_of_every_variant(tmp_path, tiny_spec):
    """What ``lssat validate --check-data`` runs: the dataset opened, no image decoded."""
    from lssat_framework.errors import DataError
    from lssat_framework.spec import validate_spec
    from lssat_framework.sweep.preflight import check_spec_data

    check_spec_data(validate_spec(tiny_spec))
    tiny_spec["sweep"] = {"data": {"synthetic": {"data.params.val": 13},
                                   "mine": {"data": {"name": "image-folder", "params": {"root": str(tmp_path / "nowhere"), "image_size": 32}}}}}
    with pytest.raises(DataError, match="data=mine.*nowhere"):
        check_spec_data(validate_spec(tiny_spec))
