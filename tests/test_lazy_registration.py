"""Issue 14: components declared without importing their code; a CLI that never imports torch
for commands that build no model."""

import json
import os
import pickle
import subprocess
import sys
import textwrap

import pytest
import torch

import lssat_framework
from lssat_framework import cli
from lssat_framework.errors import PluginError
from lssat_framework.plugins.lazy import LazyFactory, lazy
from lssat_framework.plugins import reset_plugin_manager

from conftest import ROOT, SHIPPED_DISTRIBUTIONS, make_plugin_distribution, shipped_plugin_manager

HEAVY = ("torch", "timm", "torchvision", "numpy", "PIL", "skimage", "matplotlib")

#: runs CLI calls (a JSON list of argument lists) in turn in one fresh interpreter with the shipped
#: plugins only, printing after each a line PROBE {status, heavy, out, err}: its status, the heavy
#: modules imported so far (so none listed after the last call means none imported by any), its
#: stdout and stderr
PROBE = textwrap.dedent(
    """
    import contextlib, importlib.metadata, io, json, sys
    from lssat_framework import cli
    from lssat_framework.plugins import ENTRY_POINT_GROUP, PluginManager, reset_plugin_manager
    shipped = [ep for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP) if ep.dist.metadata["Name"] in {shipped}]
    for command in json.loads(sys.argv[1]):
        reset_plugin_manager(PluginManager(entry_points=shipped))
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                status = cli.main(command)
            except SystemExit as exit:  # --help
                status = exit.code
        heavy = sorted(m for m in {heavy} if m in sys.modules)
        print("PROBE", json.dumps({{"status": status, "heavy": heavy, "out": out.getvalue(), "err": err.getvalue()}}), flush=True)
    """
).format(shipped=repr(set(SHIPPED_DISTRIBUTIONS)), heavy=repr(HEAVY))


def probe(*commands, env=None, cwd=ROOT):
    """``[(status and heavy modules, stdout, stderr)]`` of each command, run in turn in one
    interpreter (a fresh interpreter costs a second or more; the heavy modules only accumulate)."""
    result = subprocess.run([sys.executable, "-c", PROBE, json.dumps(commands)], capture_output=True, text=True, cwd=cwd, env=env, timeout=300)
    assert result.returncode == 0, result.stderr
    found = [json.loads(line.removeprefix("PROBE ")) for line in result.stdout.splitlines() if line.startswith("PROBE ")]
    assert len(found) == len(commands), result.stdout
    return [({"status": f["status"], "heavy": f["heavy"]}, f["out"], f["err"]) for f in found]


@pytest.fixture
def cache_env(tmp_path):
    return {**os.environ, "LSSAT_CACHE_DIR": str(tmp_path / "cache")}


def test_commands_that_build_no_model_import_no_torch(tmp_path, cache_env, monkeypatch):
    from lssat_timm.catalogue import cache_dir, model_names

    # the first listing of timm's names fills the cache, here in this process (timm already imported)
    monkeypatch.setenv("LSSAT_CACHE_DIR", cache_env["LSSAT_CACHE_DIR"])
    model_names()
    assert list(cache_dir().glob("timm-models-*.json"))
    commands = [
        ["--help"],
        ["plugins"],
        ["list", "descriptor"],
        ["list", "backbone", "vit_base*"],
        ["validate", "lssat_framework/specs/quickstart.yaml"],
        ["validate", "lssat_framework/specs/study.yaml"],
        ["sweep", "lssat_framework/specs/study.yaml", "--status", "--out", str(tmp_path / "study")],
    ]
    outcomes = probe(*commands, env=cache_env)
    for command, (outcome, out, _) in zip(commands, outcomes):
        assert outcome == {"status": 0, "heavy": []}, (command, out)
    assert "45 pending" in outcomes[-1][1]


def test_validate_builds_the_parts_only_when_asked(tmp_path, cache_env):
    (_, out, _), (built, built_out, _), (refused, _, errors) = probe(
        ["validate", "lssat_framework/specs/quickstart.yaml"],
        ["validate", "lssat_framework/specs/quickstart.yaml", "--build"],
        ["validate", "lssat_framework/specs/quickstart.yaml", "--build", "--set", "data.params.image_size=48"], env=cache_env)
    assert "parts not built: --build" in out
    assert built["status"] == 0 and "torch" in built["heavy"] and "parts not built" not in built_out
    assert refused["status"] == 2 and "not a multiple of the patch size 32" in errors
    assert "Traceback" not in errors


def test_the_name_cache_is_timms_own_list_and_follows_its_installation(tmp_path, monkeypatch):
    import timm

    from lssat_timm import catalogue

    monkeypatch.setenv("LSSAT_CACHE_DIR", str(tmp_path))
    names = catalogue.model_names()
    assert names == [*timm.list_models(), *timm.list_models(pretrained=True)]
    (written,) = tmp_path.glob("timm-models-*.json")
    assert json.loads(written.read_text())["names"] == names
    listed = []
    monkeypatch.setattr(catalogue, "list_from_timm", lambda: listed.append(1) or ["from-timm"])
    assert catalogue.model_names() == names and listed == []  # read from the file
    real = catalogue.installation()
    monkeypatch.setattr(catalogue, "installation", lambda: {**real, "version": "0.0.1"})  # an upgrade
    assert catalogue.model_names() == ["from-timm"] and listed == [1]
    written.write_text("{not json")
    monkeypatch.setattr(catalogue, "installation", lambda: real)
    assert catalogue.model_names() == ["from-timm"]  # a damaged file is listed again, not an error


BROKEN = textwrap.dedent(
    """
    from pydantic import BaseModel
    from lssat_framework import hookimpl, lazy

    class Params(BaseModel):
        width: int = 4

    @hookimpl
    def register_descriptors(register):
        register("no-module", "lssat_plugin_missing.code:Thing", description="module missing")
        register("no-attribute", "lssat_descriptors.identity:NoSuchDescriptor", description="attribute missing")
        register("fine", "lssat_descriptors.identity:Gray", description="resolves")
        register("misfit", lazy("lssat_descriptors.directional:LDP"), Params, "a params field LDP does not take")
    """
)


def test_a_broken_reference_is_one_clear_error_when_first_built(plugin_path):
    make_plugin_distribution(plugin_path, "lssat-plugin-broken", "lssat_plugin_broken", BROKEN, entry_name="broken")
    manager = shipped_plugin_manager(plugin_path)
    info = {i.name: i for i in manager.report()}["broken"]
    assert info.status == "ok" and info.components == {"descriptor": ["no-module", "no-attribute", "fine", "misfit"]}
    with pytest.raises(PluginError) as err:
        manager.create("descriptor", "no-module")
    message = str(err.value)
    assert "plugin 'broken' (distribution lssat-plugin-broken)" in message
    assert "'lssat_plugin_missing.code:Thing'" in message and "cannot be imported" in message
    with pytest.raises(PluginError, match="has no attribute 'NoSuchDescriptor'"):
        manager.create("descriptor", "no-attribute")
    with pytest.raises(PluginError, match="has the field 'width', which the factory LDP does not take"):
        manager.create("descriptor", "misfit")
    assert manager.create("descriptor", "fine")(torch.rand(1, 3, 4, 4)).shape == (1, 1, 4, 4)
    problems = manager.check_references()
    assert len(problems) == 3 and all("plugin 'broken'" in p for p in problems)


def test_lssat_plugins_check_resolves_every_reference(plugin_path, capsys):
    assert cli.main(["plugins", "--check"]) == 0
    assert "references: all resolve" in capsys.readouterr().out
    make_plugin_distribution(plugin_path, "lssat-plugin-broken", "lssat_plugin_broken", BROKEN, entry_name="broken")
    reset_plugin_manager(shipped_plugin_manager(plugin_path))
    assert cli.main(["plugins"]) == 0  # listing resolves nothing
    capsys.readouterr()
    assert cli.main(["plugins", "--check"]) == cli.EXIT_USER_ERROR
    captured = capsys.readouterr()
    assert "references: 3 broken" in captured.out
    assert captured.err.count("lssat: error: plugin 'broken'") == 3 and "Traceback" not in captured.err


def test_a_broken_reference_in_a_spec_exits_2_naming_the_reference(plugin_path, tiny_spec, tmp_path, capsys):
    import yaml

    make_plugin_distribution(plugin_path, "lssat-plugin-broken", "lssat_plugin_broken", BROKEN, entry_name="broken")
    reset_plugin_manager(shipped_plugin_manager(plugin_path))
    tiny_spec["descriptors"] = {"ldp": {"name": "no-module"}}
    spec = tmp_path / "spec.yaml"
    spec.write_text(yaml.safe_dump(tiny_spec))
    assert cli.main(["validate", str(spec)]) == 0  # names and params are right: nothing is imported yet
    capsys.readouterr()
    assert cli.main(["validate", str(spec), "--build"]) == cli.EXIT_USER_ERROR
    assert "'lssat_plugin_missing.code:Thing', but its module cannot be imported" in capsys.readouterr().err


#: the example plugin's __init__.py as it was first written: classes imported eagerly, callable
#: factories, descriptions given (a third-party plugin of today's API)
EAGER_EXAMPLE = textwrap.dedent(
    """
    from lssat_framework import hookimpl
    from lssat_plugin_example.backbone import SmallConvNet, SmallConvNetParams
    from lssat_plugin_example.descriptor import CentreSymmetricLBP, CSLBPParams
    from lssat_plugin_example.task import OneAttribute, OneAttributeParams

    @hookimpl
    def register_descriptors(register):
        register("cslbp-eager", CentreSymmetricLBP, CSLBPParams, "centre-symmetric LBP (P/2 bits), Heikkilä et al. 2009")

    @hookimpl
    def register_backbones(register):
        register("small-convnet-eager", SmallConvNet, SmallConvNetParams, "a four-stage CNN, stride 16")

    @hookimpl
    def register_tasks(register):
        register("one-attribute-eager", OneAttribute, OneAttributeParams, "binary classification of one attribute")
    """
)


def test_the_example_plugin_in_its_first_eager_form_still_works(plugin_path, tiny_spec, tmp_path):
    from lssat_framework.testing import train_tiny

    make_plugin_distribution(plugin_path, "lssat-plugin-eager", "lssat_plugin_eager", EAGER_EXAMPLE, entry_name="eager")
    manager = shipped_plugin_manager(plugin_path)
    reset_plugin_manager(manager)
    info = {i.name: i for i in manager.report()}["eager"]
    assert info.components == {"descriptor": ["cslbp-eager"], "backbone": ["small-convnet-eager"], "task": ["one-attribute-eager"]}
    assert manager.get("descriptor", "cslbp-eager").reference is None
    assert manager.get("descriptor", "cslbp").reference == "lssat_plugin_example.descriptor:CentreSymmetricLBP"
    images = torch.rand(2, 3, 16, 16)
    eager, lazy_form = manager.create("descriptor", "cslbp-eager"), manager.create("descriptor", "cslbp")
    assert torch.equal(eager.codes(images), lazy_form.codes(images))
    tiny_spec["backbone"] = {"name": "small-convnet-eager", "params": {"width": 8}}
    tiny_spec["data"]["params"]["image_size"] = 32
    tiny_spec["descriptors"] = {"cs": {"name": "cslbp-eager"}}
    tiny_spec["ssl"]["params"]["reconstruct"] = ["cs"]
    tiny_spec["task"] = {"name": "one-attribute-eager", "params": {"attribute": "Smiling"}}
    tiny_spec["train"]["epochs"] = 1
    summary = train_tiny(tiny_spec, tmp_path)
    assert summary["backbone"] == "small-convnet-eager" and summary["task"] == "one-attribute-eager"


def test_a_lazy_factory_binds_keywords_pickles_and_compares_by_value():
    factory = lazy("lssat_descriptors.params:LDPParams", k=5)
    assert factory(radius=2).model_dump() == {"k": 5, "radius": 2, "compile": False}
    copy = pickle.loads(pickle.dumps(factory))  # a spawned worker process gets it this way
    assert copy == factory and hash(copy) == hash(factory) and copy(radius=1).k == 5
    assert factory != lazy("lssat_descriptors.params:LDPParams", k=4)
    for bad in ("lssat_descriptors.params", "lssat descriptors:LDP", ":LDP", "a.b:"):
        with pytest.raises(ValueError, match="package.module:attr"):
            LazyFactory(bad)


def test_a_malformed_reference_fails_the_plugin_at_registration(plugin_path):
    source = textwrap.dedent(
        """
        from lssat_framework import hookimpl

        @hookimpl
        def register_descriptors(register):
            register("bad", "lssat_descriptors.identity.Gray", description="a dot where the colon goes")
        """
    )
    make_plugin_distribution(plugin_path, "lssat-plugin-malformed", "lssat_plugin_malformed", source, entry_name="malformed")
    info = {i.name: i for i in shipped_plugin_manager(plugin_path).report()}["malformed"]
    assert info.status == "failed" and "package.module:attr" in info.error


def test_every_shipped_reference_resolves_and_public_names_still_import():
    assert shipped_plugin_manager().check_references() == []
    from lssat_descriptors import LBP, LBPParams  # the names plugins and docs import
    from lssat_mae import MaskedAutoencoder
    from lssat_tasks import DeepfakeTask
    from lssat_timm import TimmBackbone

    assert issubclass(LBP, torch.nn.Module) and LBPParams().points == 8
    assert all(isinstance(cls, type) for cls in (MaskedAutoencoder, DeepfakeTask, TimmBackbone))
    assert lssat_framework.list("ssl") == ["mae", "none"]


def test_declared_headlines_and_modalities_match_the_built_components():
    """What a params model declares (read without building) must be what the component says."""
    from lssat_framework.declared import objective_modalities, task_headline
    from lssat_framework.spec import ResolvedComponent

    manager = shipped_plugin_manager()
    for component in manager.components("task"):
        params = {"label": "fake"} if "label" in (component.params_model.model_fields if component.params_model else {}) else {}
        if component.name == "one-attribute":
            params = {"attribute": "Smiling"}
        resolved = ResolvedComponent(component, component.validate(params))
        task = resolved.build()
        assert task_headline(resolved) == (task.headline, task.higher_is_better(task.headline)), component.name
    mae = manager.get("ssl", "mae")
    resolved = ResolvedComponent(mae, mae.validate({"mask": "ldp", "reconstruct": ["rgb", "ldp"]}))
    assert objective_modalities(resolved) == resolved.build().modalities == ["ldp", "rgb"]
