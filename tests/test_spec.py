"""Spec validation: two stages, every error at once with its dotted path, overrides, safe YAML."""

import subprocess
import sys

import pytest
import yaml

from lssat_framework.errors import LssatError, SpecError
from lssat_framework.spec import apply_overrides, load_spec, validate_spec

from conftest import ROOT


def write(tmp_path, data, name="spec.yaml"):
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, sort_keys=False) if not isinstance(data, str) else data)
    return path


def test_shipped_quickstart_is_valid():
    resolved = load_spec(ROOT / "lssat_framework" / "specs" / "quickstart.yaml")
    assert resolved.components["backbone"].component.name == "resnet18"
    assert set(resolved.modalities) == {"rgb", "ldp"}


def test_every_error_is_reported_at_once_with_its_path(tmp_path, tiny_spec):
    tiny_spec["backbone"]["params"]["depth"] = "six"
    tiny_spec["backbone"]["params"]["dpeth"] = 3
    tiny_spec["task"]["name"] = "deepfak"
    tiny_spec["descriptors"]["ldp"]["params"]["k"] = 12
    del tiny_spec["train"]["epochs"]
    tiny_spec["trian"] = {}
    tiny_spec["ssl"]["params"]["reconstruct"] = ["ldpp"]
    with pytest.raises(SpecError) as err:
        load_spec(write(tmp_path, tiny_spec))
    paths = [path.split(" ")[0] for path, _ in err.value.problems]
    assert set(paths) == {"backbone.params.depth", "backbone.params.dpeth", "task.name", "descriptors.ldp.params.k", "train.epochs", "trian", "ssl.params"}
    messages = dict((p.split(" ")[0], m) for p, m in err.value.problems)
    assert "did you mean 'depth'" in messages["backbone.params.dpeth"]
    assert "did you mean 'deepfake'" in messages["task.name"]
    assert "did you mean 'train'" in messages["trian"]
    assert "(got 'six')" in messages["backbone.params.depth"]
    text = str(err.value)
    assert "did you mean 'ldp'" in messages["ssl.params"].lower()
    assert text.startswith(f"{tmp_path / 'spec.yaml'}: 7 errors")
    assert "backbone.params.depth (line " in text


def test_unknown_modality_is_reported_under_the_section_that_names_it(tiny_spec):
    tiny_spec["ssl"]["params"]["reconstruct"] = ["ldpp"]
    tiny_spec["classify"] = "rbg"
    with pytest.raises(SpecError) as err:
        validate_spec(tiny_spec)
    problems = dict(err.value.problems)
    assert "did you mean 'ldp'" in problems["ssl.params"].lower()
    assert "did you mean 'rgb'" in problems["classify"].lower()


def test_registered_descriptor_is_a_modality_without_declaring_it(tiny_spec):
    tiny_spec["descriptors"] = {}
    tiny_spec["ssl"]["params"].update(mask="lbp", reconstruct=["rgb", "hog"])
    resolved = validate_spec(tiny_spec)
    assert set(resolved.modalities) == {"lbp", "rgb", "hog"}


def test_overrides_parse_yaml_values_and_create_keys():
    data = apply_overrides({"train": {"epochs": 3}}, ["train.epochs=1", "train.lr=1e-4", "ssl.params.reconstruct=[ldp, rgb]", "x.flag=true"])
    assert data == {"train": {"epochs": 1, "lr": 1e-4}, "ssl": {"params": {"reconstruct": ["ldp", "rgb"]}}, "x": {"flag": True}}
    with pytest.raises(LssatError, match="key.path=value"):
        apply_overrides({}, ["novalue"])
    with pytest.raises(LssatError, match="'train.epochs' is not a mapping"):
        apply_overrides({"train": {"epochs": 3}}, ["train.epochs.x=1"])


def test_overrides_are_validated_like_the_file(tmp_path, tiny_spec):
    with pytest.raises(SpecError, match="train.batch_size"):
        load_spec(write(tmp_path, tiny_spec), ["train.batch_size=0"])


def test_yaml_that_builds_python_objects_is_refused(tmp_path):
    path = write(tmp_path, "name: !!python/object/apply:os.system ['echo hacked']\n")
    with pytest.raises(LssatError, match="tags that build Python objects are refused"):
        load_spec(path)


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "lssat_framework", *args], capture_output=True, text=True)


def test_user_errors_exit_2_with_one_message_and_no_traceback(tmp_path, tiny_spec):
    tiny_spec["task"]["name"] = "deepfak"
    bad = write(tmp_path, tiny_spec)
    for args in (["validate", str(bad)], ["validate", str(tmp_path / "missing.yaml")], ["list", "descriptors"], ["run", str(bad)]):
        result = run_cli(*args)
        assert result.returncode == 2, args
        assert "Traceback" not in result.stderr
        assert result.stderr.startswith("lssat: error:")
    debug = run_cli("validate", str(bad), "--debug")
    assert debug.returncode != 0 and "Traceback" in debug.stderr


def test_validate_and_list_commands(tmp_path, tiny_spec):
    ok = run_cli("validate", str(write(tmp_path, tiny_spec)), "--set", "train.epochs=2")
    assert ok.returncode == 0 and "valid" in ok.stdout and "timm/vit_tiny_patch16_224" in ok.stdout
    listed = run_cli("list", "backbone", "resnet1*")
    assert listed.returncode == 0
    assert "resnet18" in listed.stdout.split() and "vit_tiny_patch16_224" not in listed.stdout
