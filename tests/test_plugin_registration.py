"""What a plugin registers is checked when it registers: a params model against its factory,
a command against the CLI's; a broken plugin never takes the CLI down."""

import json
import subprocess
import sys

import pytest
import torch

from lssat_framework.plugins import PluginManager, reset_plugin_manager


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
