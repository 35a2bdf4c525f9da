"""Plugin discovery, listing and creating, blocking, a broken plugin reported and skipped, and
the registry rules (a plugin as distribution and entry-point name: test_plugin_identity.py;
params models and commands: test_plugin_registration.py)."""

import json
import os
import subprocess
import sys
import textwrap

import pytest
import torch

import lssat_framework
from lssat_framework.errors import AmbiguousComponentError, PluginError, UnknownComponentError
from lssat_framework.plugins import KINDS, reset_plugin_manager
from lssat_framework.spec import validate_spec

from conftest import ROOT, make_plugin_distribution, shipped_plugin_manager

CENTRE_SYMMETRIC = textwrap.dedent(
    """
    from lssat_framework import hookimpl
    from lssat_descriptors import LBP, LBPParams

    class CentreSymmetricLBP(LBP):
        '''A descriptor subclassing the builtin LBP.'''

    @hookimpl
    def register_descriptors(register):
        register("lbp-subclass", CentreSymmetricLBP, LBPParams, "subclass of the builtin LBP")
    """
)


def test_builtins_are_registered_through_entry_points():
    report = {info.name: info for info in shipped_plugin_manager().report()}
    assert {"descriptors", "timm", "mae", "tasks", "datasets"} <= set(report)
    for name in ("descriptors", "timm", "mae", "tasks", "datasets"):
        assert report[name].status == "ok"
        assert report[name].distribution == "lssat-framework"
    assert set(report["descriptors"].components["descriptor"]) == {"rgb", "gray", "lbp", "ltp", "ldp", "hog"}
    assert "vit_base_patch16_224" in report["timm"].components["backbone"]
    assert {"mae", "none"} <= set(report["mae"].components["ssl"])


def test_core_names_no_builtin_plugin():
    """The core reaches builtins only through entry points: no import of a builtin package."""
    builtin_packages = ("lssat_descriptors", "lssat_timm", "lssat_mae", "lssat_tasks", "lssat_datasets")
    for path in (ROOT / "lssat_framework").glob("*.py"):
        text = path.read_text()
        for package in builtin_packages:
            assert package not in text, f"{path.name} names {package}"


def test_list_with_wildcards_and_create():
    assert lssat_framework.list("descriptor", "l?p") == ["lbp", "ldp", "ltp"]
    assert "vit_tiny_patch16_224" in lssat_framework.list("backbone", "vit_tiny*")
    assert all(name.startswith("resnet") for name in lssat_framework.list("backbone", "resnet*"))
    lbp = lssat_framework.create("descriptor", "lbp", points=8, radius=1)
    assert lbp(torch.rand(1, 3, 16, 16)).shape == (1, 1, 16, 16)


def test_create_validates_params():
    with pytest.raises(lssat_framework.LssatError, match="params.k"):
        lssat_framework.create("descriptor", "ldp", k=9)


def test_unknown_name_suggests_close_matches_and_the_list_command():
    with pytest.raises(UnknownComponentError) as err:
        shipped_plugin_manager().get("descriptor", "lbpp")
    assert "did you mean 'lbp'" in str(err.value)
    assert "lssat list descriptor" in str(err.value)
    with pytest.raises(UnknownComponentError, match="Kinds are"):
        shipped_plugin_manager().get("descriptors", "lbp")


def test_third_party_plugin_is_discovered_listed_and_usable_from_a_spec(plugin_path, tiny_spec):
    make_plugin_distribution(plugin_path, "lssat-plugin-cs", "lssat_plugin_cs", CENTRE_SYMMETRIC, entry_name="cs")
    manager = shipped_plugin_manager(plugin_path)
    info = {i.name: i for i in manager.report()}["cs"]
    assert (info.distribution, info.version, info.status) == ("lssat-plugin-cs", "1.0", "ok")
    assert info.components == {"descriptor": ["lbp-subclass"]}
    tiny_spec["descriptors"] = {"cs": {"name": "lbp-subclass", "params": {"points": 8}}}
    tiny_spec["ssl"]["params"]["reconstruct"] = ["cs"]
    resolved = validate_spec(tiny_spec, manager=manager)
    assert resolved.modalities["cs"].component.distribution == "lssat-plugin-cs"
    assert type(resolved.modalities["cs"].build()).__name__ == "CentreSymmetricLBP"


@pytest.mark.parametrize("blocked", ["cs", "lssat-plugin-cs"])
def test_plugin_can_be_blocked_by_entry_point_or_distribution(plugin_path, monkeypatch, blocked):
    make_plugin_distribution(plugin_path, "lssat-plugin-cs", "lssat_plugin_cs", CENTRE_SYMMETRIC, entry_name="cs")
    monkeypatch.setenv("LSSAT_DISABLE_PLUGINS", f"other,{blocked}")
    manager = shipped_plugin_manager(plugin_path)
    assert {i.name: i.status for i in manager.report()}["cs"] == "blocked"
    assert "lbp-subclass" not in manager.list("descriptor")
    assert "lssat_plugin_cs" not in sys.modules


def test_broken_import_is_reported_once_and_skipped(plugin_path, capsys):
    make_plugin_distribution(plugin_path, "lssat-plugin-broken", "lssat_plugin_broken", "import not_a_module_anywhere\n")
    manager = shipped_plugin_manager(plugin_path)
    err = capsys.readouterr().err
    assert err.count("lssat-plugin-broken") == 1
    assert "ModuleNotFoundError" in err
    assert {i.name: i.status for i in manager.report()}["lssat_plugin_broken"] == "failed"
    assert "lbp" in manager.list("descriptor")  # the rest still works


def test_exception_in_a_hook_is_reported_and_skipped(plugin_path, capsys):
    source = textwrap.dedent(
        """
        from lssat_framework import hookimpl

        @hookimpl
        def register_descriptors(register):
            register("halfway", lambda: None)
            raise RuntimeError("boom")
        """
    )
    make_plugin_distribution(plugin_path, "lssat-plugin-raises", "lssat_plugin_raises", source)
    manager = shipped_plugin_manager(plugin_path)
    assert "lbp" in manager.list("descriptor")
    assert "halfway" not in manager.list("descriptor")
    assert "boom" in capsys.readouterr().err
    assert {i.name: i.status for i in manager.report()}["lssat_plugin_raises"] == "failed"


def test_strict_mode_makes_a_broken_plugin_fatal(plugin_path, monkeypatch):
    make_plugin_distribution(plugin_path, "lssat-plugin-broken", "lssat_plugin_broken", "raise ImportError('nope')\n")
    monkeypatch.setenv("LSSAT_STRICT_PLUGINS", "1")
    with pytest.raises(PluginError, match="lssat-plugin-broken"):
        shipped_plugin_manager(plugin_path)


def test_misspelled_hook_implementation_is_a_clear_error(plugin_path, capsys):
    source = textwrap.dedent(
        """
        from lssat_framework import hookimpl

        @hookimpl
        def register_descriptor(register):
            register("x", lambda: None)
        """
    )
    make_plugin_distribution(plugin_path, "lssat-plugin-typo", "lssat_plugin_typo", source)
    shipped_plugin_manager(plugin_path)
    assert "did you mean 'register_descriptors'" in capsys.readouterr().err


def test_duplicate_names_name_both_distributions_and_stay_reachable(plugin_path):
    source = textwrap.dedent(
        """
        from lssat_framework import hookimpl
        from lssat_descriptors import LBP, LBPParams

        class MyLBP(LBP):
            pass

        @hookimpl
        def register_descriptors(register):
            register("lbp", MyLBP, LBPParams)
        """
    )
    make_plugin_distribution(plugin_path, "lssat-plugin-dup", "lssat_plugin_dup", source, entry_name="dup")
    manager = shipped_plugin_manager(plugin_path)
    with pytest.raises(AmbiguousComponentError) as err:
        manager.get("descriptor", "lbp")
    assert "lssat-plugin-dup" in str(err.value) and "lssat-framework" in str(err.value)
    assert type(manager.create("descriptor", "dup/lbp")).__name__ == "MyLBP"
    assert type(manager.create("descriptor", "descriptors/lbp")).__name__ == "LBP"
    assert {"descriptors/lbp", "dup/lbp"} <= set(manager.list("descriptor"))


def test_plugin_added_in_python_without_entry_point():
    from lssat_framework import hookimpl

    class Local:
        @hookimpl
        def register_tasks(self, register):
            register("my-task", dict, description="local")

    manager = shipped_plugin_manager()
    manager.add_plugin(Local(), name="local")
    assert manager.get("task", "my-task").plugin == "local"


def test_autoload_can_be_switched_off(monkeypatch):
    monkeypatch.setenv("LSSAT_DISABLE_PLUGIN_AUTOLOAD", "1")
    manager = shipped_plugin_manager()
    assert manager.report() == []
    assert all(manager.list(kind) == [] for kind in KINDS)


def test_lssat_plugins_json_lists_an_installed_plugin(plugin_path):
    make_plugin_distribution(plugin_path, "lssat-plugin-cs", "lssat_plugin_cs", CENTRE_SYMMETRIC, entry_name="cs")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(plugin_path), os.environ.get("PYTHONPATH", "")])}
    out = subprocess.run([sys.executable, "-m", "lssat_framework", "plugins", "--json"], capture_output=True, text=True, env=env, check=True)
    plugins = {(p["distribution"], p["name"]): p for p in json.loads(out.stdout)}
    assert plugins[("lssat-plugin-cs", "cs")]["components"] == {"descriptor": ["lbp-subclass"]}
    assert plugins[("lssat-framework", "descriptors")]["status"] == "ok"
    reset_plugin_manager()


def test_the_tests_plugin_manager_ignores_other_installed_plugins(plugin_path):
    """Issue 16 item 28: tests listed the whole environment, so a user's plugin broke them."""
    make_plugin_distribution(plugin_path, "lssat-plugin-users", "lssat_plugin_users", CENTRE_SYMMETRIC.replace("lbp-subclass", "lsp"))
    assert "lsp" in shipped_plugin_manager(plugin_path).list("descriptor", "l?p")  # it is installed ...
    assert shipped_plugin_manager().list("descriptor", "l?p") == ["lbp", "ldp", "ltp"]  # ... and the tests do not see it
