"""Plugin discovery, the registry rules, and a broken plugin never taking the CLI down."""

import json
import os
import subprocess
import sys
import textwrap

import pytest
import torch

import lssat_framework
from lssat_framework.errors import AmbiguousComponentError, PluginError, UnknownComponentError
from lssat_framework.plugins import KINDS, PluginManager, reset_plugin_manager
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


# ------------------------------------------------- a plugin is (distribution, entry-point name)
def dataset_plugin(names=("third-party-faces",)):
    lines = "".join(f'    register("{name}", SyntheticFaces, SyntheticFacesParams, "third-party copy")\n' for name in names)
    return (
        "from lssat_framework import hookimpl\n"
        "from lssat_datasets import SyntheticFaces\n"
        "from lssat_datasets.synthetic import SyntheticFacesParams\n\n"
        "@hookimpl\n"
        "def register_datasets(register):\n" + lines
    )


def test_an_entry_point_named_like_a_builtin_hides_nothing(plugin_path, capsys):
    """Issue 16 item 17: a third-party entry point named `datasets` erased every builtin dataset."""
    make_plugin_distribution(plugin_path, "lssat-plugin-faces", "lssat_plugin_faces", dataset_plugin(), entry_name="datasets")
    manager = shipped_plugin_manager(plugin_path)
    assert {"synthetic-faces", "third-party-faces"} <= set(manager.list("dataset"))
    records = {(i.distribution, i.name): i for i in manager.report()}
    assert records[("lssat-framework", "datasets")].status == records[("lssat-plugin-faces", "datasets")].status == "ok"
    assert records[("lssat-plugin-faces", "datasets")].components == {"dataset": ["third-party-faces"]}
    assert "warning" not in capsys.readouterr().err
    assert manager.get("dataset", "lssat-framework:datasets/synthetic-faces").distribution == "lssat-framework"
    assert manager.get("dataset", "datasets/third-party-faces").distribution == "lssat-plugin-faces"  # unique: the short form works
    assert manager.get("dataset", "lssat_plugin_faces:datasets/third-party-faces").distribution == "lssat-plugin-faces"


def test_a_name_registered_under_two_equal_entry_point_names_is_qualified_by_distribution(plugin_path):
    """Issue 16 item 17: both stay usable by qualified names, as docs/plugins.md promises."""
    make_plugin_distribution(plugin_path, "lssat-plugin-faces", "lssat_plugin_faces", dataset_plugin(["synthetic-faces"]), entry_name="datasets")
    manager = shipped_plugin_manager(plugin_path)
    both = {"lssat-framework:datasets/synthetic-faces", "lssat-plugin-faces:datasets/synthetic-faces"}
    assert both <= set(manager.list("dataset"))
    with pytest.raises(AmbiguousComponentError) as err:
        manager.get("dataset", "datasets/synthetic-faces")
    assert all(name in str(err.value) for name in both)
    assert {manager.get("dataset", name).distribution for name in both} == {"lssat-framework", "lssat-plugin-faces"}


def test_the_warning_blames_the_distribution_that_failed(plugin_path, capsys):
    """Issue 16 item 17: the warning blamed whichever plugin of that name loaded second."""
    source = dataset_plugin() + '    raise RuntimeError("faces boom")\n'
    make_plugin_distribution(plugin_path, "lssat-plugin-faces", "lssat_plugin_faces", source, entry_name="datasets")
    manager = shipped_plugin_manager(plugin_path)
    assert "synthetic-faces" in manager.list("dataset") and "third-party-faces" not in manager.list("dataset")
    err = capsys.readouterr().err
    assert err.count("warning") == 1 and "distribution lssat-plugin-faces" in err and "faces boom" in err
    assert {(i.distribution, i.name): i.status for i in manager.report()}[("lssat-framework", "datasets")] == "ok"


def test_disabling_a_distribution_blocks_only_that_distribution(plugin_path, monkeypatch):
    """Issue 16 item 17: blocking one distribution also blocked another of the same entry-point name."""
    make_plugin_distribution(plugin_path, "lssat-plugin-faces", "lssat_plugin_faces", dataset_plugin(), entry_name="datasets")
    monkeypatch.setenv("LSSAT_DISABLE_PLUGINS", "lssat-plugin-faces")
    manager = shipped_plugin_manager(plugin_path)
    status = {(i.distribution, i.name): i.status for i in manager.report()}
    assert status[("lssat-plugin-faces", "datasets")] == "blocked" and status[("lssat-framework", "datasets")] == "ok"
    assert "synthetic-faces" in manager.list("dataset") and "third-party-faces" not in manager.list("dataset")


@pytest.mark.parametrize("second", ["lssat_plugin_cs", "lssat_plugin_other"])
def test_an_entry_point_declared_twice_in_one_distribution_keeps_the_plugin(plugin_path, capsys, second):
    """Issue 16 item 17: an entry point declared twice in one distribution killed that plugin."""
    entry_points = f"[lssat]\ncs = lssat_plugin_cs\ncs = {second}\n"
    make_plugin_distribution(plugin_path, "lssat-plugin-cs", "lssat_plugin_cs", CENTRE_SYMMETRIC, entry_points=entry_points)
    manager = shipped_plugin_manager(plugin_path)
    assert {i.name: i.status for i in manager.report()}["cs"] == "ok"
    assert "lbp-subclass" in manager.list("descriptor")
    err = capsys.readouterr().err
    assert ("declares the entry point 'cs' twice" in err) == (second != "lssat_plugin_cs")


@pytest.mark.parametrize("spelling", ["lssat_plugin_cs", "LSSAT.Plugin-CS", "lssat_plugin_cs:cs"])
def test_disabling_accepts_the_normalised_distribution_name(plugin_path, monkeypatch, capsys, spelling):
    """Issue 16, messages: the underscore spelling of a distribution blocked nothing, silently."""
    make_plugin_distribution(plugin_path, "lssat-plugin-cs", "lssat_plugin_cs", CENTRE_SYMMETRIC, entry_name="cs")
    monkeypatch.setenv("LSSAT_DISABLE_PLUGINS", spelling)
    manager = shipped_plugin_manager(plugin_path)
    assert {i.name: i.status for i in manager.report()}["cs"] == "blocked"
    assert "warning" not in capsys.readouterr().err


def test_disabling_a_plugin_that_is_not_installed_warns_with_the_close_match(plugin_path, monkeypatch, capsys):
    """Issue 16, messages: LSSAT_DISABLE_PLUGINS naming nothing installed blocked nothing without a word."""
    make_plugin_distribution(plugin_path, "lssat-plugin-cs", "lssat_plugin_cs", CENTRE_SYMMETRIC, entry_name="cs")
    monkeypatch.setenv("LSSAT_DISABLE_PLUGINS", "lssat-plugin-sc")
    manager = shipped_plugin_manager(plugin_path)
    assert "lbp-subclass" in manager.list("descriptor")
    err = capsys.readouterr().err
    assert err.count("LSSAT_DISABLE_PLUGINS") == 1
    assert "'lssat-plugin-sc'" in err and "did you mean 'lssat-plugin-cs'" in err


def test_a_plugin_failing_in_a_later_hook_lists_no_components(plugin_path, capsys):
    """Issue 16, messages: a failed plugin still listed the components of its earlier hooks."""
    source = textwrap.dedent(
        """
        from lssat_framework import hookimpl

        @hookimpl
        def register_descriptors(register):
            register("before-the-failure", lambda: None)

        @hookimpl
        def register_tasks(register):
            raise RuntimeError("boom")
        """
    )
    make_plugin_distribution(plugin_path, "lssat-plugin-later", "lssat_plugin_later", source)
    manager = shipped_plugin_manager(plugin_path)
    info = {i.name: i for i in manager.report()}["lssat_plugin_later"]
    assert (info.status, info.components) == ("failed", {})
    assert "before-the-failure" not in manager.list("descriptor")
    assert capsys.readouterr().err.count("boom") == 1


# --------------------------------------------------------- params_model against the factory
class Widths(__import__("pydantic").BaseModel):
    width: int = 8


class TakesWidth(torch.nn.Module):
    def __init__(self, width: int = 8):
        super().__init__()
        self.width = width


class TakesDepth(torch.nn.Module):
    def __init__(self, depth: int = 2):
        super().__init__()


def takes_anything(**kwargs):
    return kwargs


def needs_size(size, width=8):
    return size, width


def registering(**components):
    from lssat_framework import hookimpl

    class Plugin:
        @hookimpl
        def register_backbones(self, register):
            for name, (factory, model) in components.items():
                register(name, factory, model)

    manager = PluginManager(autoload=False)
    manager.add_plugin(Plugin(), name="widths", distribution="lssat-plugin-widths")
    return manager


def test_params_fields_the_factory_takes_are_accepted():
    """Issue 16 item 23: classes (their __init__), **kwargs and no-params factories pass."""
    manager = registering(a=(TakesWidth, Widths), b=(takes_anything, Widths), c=(TakesWidth, None))
    assert manager.list("backbone") == ["a", "b", "c"]
    assert manager.create("backbone", "a", width=3).width == 3


@pytest.mark.parametrize(
    "factory, model, words",
    [(TakesDepth, Widths, ["'width'", "TakesDepth", "depth"]), (needs_size, Widths, ["'size'", "needs_size"]), (needs_size, None, ["'size'"])],
)
def test_params_model_not_matching_the_factory_fails_the_plugin_at_registration(capsys, factory, model, words):
    """Issue 16 item 23: a params field the factory does not take passed validate and died in run."""
    manager = registering(odd=(factory, model))
    info = manager.report()[0]
    assert info.status == "failed" and manager.list("backbone") == []
    err = capsys.readouterr().err
    assert "plugin 'widths' (distribution lssat-plugin-widths)" in err and "backbone 'odd'" in err
    assert all(word in info.error for word in words), info.error


# ------------------------------------------------------------------------ the CLI stays up
class CommandClash:
    from lssat_framework import hookimpl

    @hookimpl
    def register_commands(self, subparsers):
        subparsers.add_parser("run", help="a second run").set_defaults(handler=lambda args: print("hijacked"))
        greet = subparsers.add_parser("greet-clash")
        greet.set_defaults(handler=lambda args: print("greetings"))


class CommandRaises:
    from lssat_framework import hookimpl

    @hookimpl
    def register_descriptors(self, register):
        register("half-registered", lambda: None)

    @hookimpl
    def register_commands(self, subparsers):
        subparsers.add_parser("half-command")
        raise RuntimeError("commands boom")


def test_a_plugin_command_with_an_existing_name_is_skipped_with_one_warning(capsys):
    """Issue 16 item 22: a plugin adding `run` (or `prepare`) took the whole CLI down."""
    from lssat_framework import cli

    manager = PluginManager(autoload=False)
    manager.add_plugin(CommandClash(), name="clash", distribution="lssat-plugin-clash")
    reset_plugin_manager(manager)
    assert cli.main(["greet-clash"]) == 0
    captured = capsys.readouterr()
    assert captured.out.strip() == "greetings"
    assert captured.err.count("warning") == 1 and "lssat-plugin-clash" in captured.err and "'run'" in captured.err
    with pytest.raises(SystemExit):  # the core's `run`: its spec argument is required
        cli.main(["run"])


def test_a_plugin_failing_in_register_commands_contributes_nothing(capsys):
    """Issue 16 item 22 and messages: a raising command hook crashed the CLI; nothing of the plugin stays."""
    from lssat_framework import cli

    manager = PluginManager(autoload=False)
    manager.add_plugin(CommandRaises(), name="raises", distribution="lssat-plugin-raises")
    reset_plugin_manager(manager)
    assert cli.main(["plugins", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report[0]["status"] == "failed" and report[0]["components"] == {}
    assert "commands boom" in report[0]["error"]
    assert manager.list("descriptor") == []
    with pytest.raises(SystemExit):
        cli.main(["half-command"])


@pytest.mark.parametrize("kind", ["backbone", "descriptor"])
def test_lssat_list_into_a_closed_pipe_exits_quietly(kind):
    """Issue 16, messages: `lssat list backbone | head` ended with a BrokenPipeError traceback."""
    proc = subprocess.Popen([sys.executable, "-m", "lssat_framework", "list", kind], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()  # the reader is gone before the first line (a large list fails in print, a short one at exit)
    err = proc.stderr.read().decode()
    assert proc.wait() == 141 and err == ""


def test_the_tests_plugin_manager_ignores_other_installed_plugins(plugin_path):
    """Issue 16 item 28: tests listed the whole environment, so a user's plugin broke them."""
    make_plugin_distribution(plugin_path, "lssat-plugin-users", "lssat_plugin_users", CENTRE_SYMMETRIC.replace("lbp-subclass", "lsp"))
    assert "lsp" in shipped_plugin_manager(plugin_path).list("descriptor", "l?p")  # it is installed ...
    assert shipped_plugin_manager().list("descriptor", "l?p") == ["lbp", "ldp", "ltp"]  # ... and the tests do not see it
