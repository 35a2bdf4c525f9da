"""Issue 22, items 7 and 8: a plugin's fault is blamed on the plugin (its name, distribution and
version in one message, no traceback), contract breaks are found by a dry forward before any
training, ambiguous names say so wherever they are used, each plugin's import is timed, and
stdout belongs to the command."""

import json
import pickle
import re
import textwrap

import pytest
import yaml

import lssat_framework
from lssat_framework import cli
from lssat_framework.plugins import loading as plugin_loading
from lssat_framework.errors import PluginFaultError, SpecError
from lssat_framework.model import build
from lssat_framework.plugins import reset_plugin_manager
from lssat_framework.spec import validate_spec

from conftest import make_plugin_distribution, shipped_plugin_manager

FAULTY = textwrap.dedent(
    """
    import torch
    import torch.nn.functional as F

    from lssat_framework import hookimpl
    from lssat_framework.interfaces import Descriptor, SSLOutput, Task
    from lssat_mae import MAEParams
    from lssat_mae.objectives import MaskedAutoencoder


    class Exploding(Descriptor):
        def __init__(self):
            super().__init__()
            raise RuntimeError("the detonator was wired backwards")


    class ThreeForOne(Descriptor):
        '''Declares one channel, returns three.'''
        channels = 1

        def forward(self, images):
            return images


    class NoMetrics(Task):
        '''A task that forgot its metrics.'''
        label, headline = "fake", "auc"

        def bind(self, info):
            return 1

        def loss(self, logits, target):
            return F.binary_cross_entropy_with_logits(logits.squeeze(-1), target.float())

        def scores(self, logits):
            return torch.sigmoid(logits.squeeze(-1))


    class Lossless(MaskedAutoencoder):
        '''An MAE whose output lost its losses.'''

        def forward(self, backbone, inputs):
            out = super().forward(backbone, inputs)
            return SSLOutput(predictions=out.predictions, mask=out.mask)


    @hookimpl
    def register_descriptors(register):
        register("exploding-faulty", Exploding, description="raises when built")
        register("three-for-one", ThreeForOne)


    @hookimpl
    def register_tasks(register):
        register("no-metrics", NoMetrics)


    @hookimpl
    def register_ssl_objectives(register):
        register("lossless-mae", Lossless, MAEParams)
    """
)

BLAMED = "of plugin 'faulty' (distribution lssat-plugin-faulty 2.3)"


@pytest.fixture
def faulty(plugin_path):
    """The shipped plugins and lssat-plugin-faulty 2.3, as the process-wide manager."""
    make_plugin_distribution(plugin_path, "lssat-plugin-faulty", "lssat_plugin_faulty", FAULTY, entry_name="faulty", version="2.3")
    manager = shipped_plugin_manager(plugin_path)
    reset_plugin_manager(manager)
    return manager


def with_modality(spec, name):
    spec["descriptors"] = {"mine": {"name": name}}
    spec["ssl"]["params"]["reconstruct"] = ["mine"]
    return spec


#: each contract break: how the tiny spec uses the component, and what the message says of it
BREAKS = {
    "descriptor-channels": (lambda spec: with_modality(spec, "three-for-one"), ["the descriptor 'three-for-one'", "declares channels = 1", "shape 2×3×32×32"]),
    "task-without-metrics": (lambda spec: spec.update(task={"name": "no-metrics"}) or spec, ["the task 'no-metrics'", "metrics raised NotImplementedError"]),
    "objective-without-losses": (
        lambda spec: spec["ssl"].update(name="lossless-mae") or spec,
        ["the SSL objective 'lossless-mae'", "must return an SSLOutput whose `losses`", "losses = {}"],
    ),
}


def validate_build(tmp_path, spec, capsys, *extra):
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    status = cli.main(["validate", str(path), "--build", *extra])
    return status, capsys.readouterr()


# --------------------------------------------------------------- a factory that raises
def test_a_factory_that_raises_is_one_error_naming_its_plugin(faulty, tiny_spec, tmp_path, capsys):
    with pytest.raises(PluginFaultError) as err:
        faulty.create("descriptor", "exploding-faulty")
    message = str(err.value)
    assert "the descriptor 'exploding-faulty' " + BLAMED in message
    assert "RuntimeError" in message and "the detonator was wired backwards" in message
    assert isinstance(err.value.__cause__, RuntimeError)
    factory = pickle.loads(pickle.dumps(faulty.get("descriptor", "exploding-faulty").resolve()))  # as dataset workers get it
    with pytest.raises(PluginFaultError, match=re.escape(BLAMED)):
        factory()

    status, captured = validate_build(tmp_path, with_modality(tiny_spec, "exploding-faulty"), capsys)
    assert status == cli.EXIT_USER_ERROR and "valid" not in captured.out
    assert BLAMED in captured.err and "RuntimeError" in captured.err and "Traceback" not in captured.err
    with pytest.raises(PluginFaultError):  # --debug lets it through, with the plugin's traceback chained
        validate_build(tmp_path, with_modality(tiny_spec, "exploding-faulty"), capsys, "--debug")


# ------------------------------------------------------------- contracts, before training
@pytest.mark.parametrize("case", list(BREAKS))
def test_validate_build_finds_a_contract_break_with_a_dry_forward(case, faulty, tiny_spec, tmp_path, capsys):
    use, words = BREAKS[case]
    status, captured = validate_build(tmp_path, use(tiny_spec), capsys)
    assert status == cli.EXIT_USER_ERROR, captured.out
    assert "dry forward of 2 random 32×32 images" in captured.err
    assert BLAMED in captured.err and "Traceback" not in captured.err
    assert all(word in captured.err for word in words), captured.err


@pytest.mark.parametrize("case", list(BREAKS))
def test_a_run_refuses_a_contract_break_when_it_builds(case, faulty, tiny_spec):
    """model.build runs the same dry check, so `lssat run` stops before its first epoch."""
    use, words = BREAKS[case]
    with pytest.raises(PluginFaultError) as err:
        build(validate_spec(use(tiny_spec), manager=faulty))
    assert BLAMED in str(err.value) and all(word in str(err.value) for word in words)


def test_every_break_is_reported_at_once_the_first_on_the_first_line(faulty, tiny_spec):
    """Sweep status and job files keep the first line of an error: it names a culprit."""
    tiny_spec["task"] = {"name": "no-metrics"}
    tiny_spec["ssl"]["name"] = "lossless-mae"
    with pytest.raises(PluginFaultError) as err:
        build(validate_spec(tiny_spec, manager=faulty))
    first, *others = str(err.value).splitlines()
    assert "the SSL objective 'lossless-mae' " + BLAMED in first and "dry forward" in first
    assert others == [f"  also: the task 'no-metrics' {BLAMED}: metrics raised NotImplementedError; the component's class must implement it"]


def test_the_dry_check_leaves_no_trace_and_says_so(tiny_spec, tmp_path, capsys):
    """No batch-norm statistic and no random draw of the run changes: the run trains as before."""
    import torch

    from lssat_framework.plugins.contracts import dry_check

    tiny_spec["backbone"] = {"name": "resnet18", "params": {}}
    tiny_spec["data"]["params"]["image_size"] = 64
    resolved = validate_spec(tiny_spec)
    built = build(resolved)
    bn = built.model.backbone.model.bn1
    assert int(bn.num_batches_tracked) == 0 and torch.equal(bn.running_mean, torch.zeros_like(bn.running_mean))
    torch.manual_seed(7)
    expected = torch.rand(3)
    torch.manual_seed(7)
    dry_check(resolved, built.model, built.task, built.source.info)
    assert torch.equal(torch.rand(3), expected)
    status, captured = validate_build(tmp_path, tiny_spec, capsys)
    assert status == 0 and "dry forward: 2 random images through the model, the task's loss and its metrics: every contract holds" in captured.out


# ------------------------------------------------------------------ ambiguous names
TWIN_LBP = textwrap.dedent(
    """
    from lssat_framework import hookimpl
    from lssat_descriptors import LBP, LBPParams

    class TwinLBP(LBP):
        '''A second lbp.'''

    @hookimpl
    def register_descriptors(register):
        register("lbp", TwinLBP, LBPParams)
    """
)


def test_an_ambiguous_modality_name_is_the_ambiguity_error(plugin_path, tiny_spec):
    make_plugin_distribution(plugin_path, "lssat-plugin-twin", "lssat_plugin_twin", TWIN_LBP, entry_name="twin")
    tiny_spec["ssl"]["params"]["reconstruct"] = ["lbp"]
    with pytest.raises(SpecError) as err:
        validate_spec(tiny_spec, manager=shipped_plugin_manager(plugin_path))
    message = str(err.value)
    assert "registered by 2 plugins" in message and "lssat-plugin-twin" in message and "lssat-framework" in message
    assert "neither declared" not in message


# ---------------------------------------------------------------------- import time
def test_each_plugin_import_is_timed_and_a_slow_one_is_named(plugin_path, monkeypatch, capsys):
    make_plugin_distribution(plugin_path, "lssat-plugin-sluggish", "lssat_plugin_sluggish", "import time\ntime.sleep(0.15)\n", entry_name="sluggish")
    monkeypatch.setattr(plugin_loading, "SLOW_IMPORT_S", 0.1)
    manager = shipped_plugin_manager(plugin_path, strict=True)  # slow is no failure, even in strict mode
    err = capsys.readouterr().err
    warned = [line for line in err.splitlines() if "lssat-plugin-sluggish" in line]
    assert len(warned) == 1 and re.search(r"plugin 'sluggish' \(distribution lssat-plugin-sluggish\) took \d+\.\d s to import", warned[0])
    records = {info.name: info for info in manager.report()}
    assert records["sluggish"].import_ms >= 150 and records["descriptors"].import_ms is not None

    reset_plugin_manager(manager)
    assert cli.main(["plugins", "--json"]) == 0
    by_name = {record["name"]: record for record in json.loads(capsys.readouterr().out)}
    assert by_name["sluggish"]["import_ms"] >= 150
    assert cli.main(["plugins"]) == 0
    header, *rows = capsys.readouterr().out.splitlines()
    assert "import" in header.split() and any(row.startswith("sluggish") and " ms " in row for row in rows)


# -------------------------------------------------------------- stdout is the command's
LOUD = textwrap.dedent(
    """
    from lssat_framework import hookimpl

    print("chatter at import")

    @hookimpl
    def register_descriptors(register):
        print("chatter in a hook")
        register("loud", "lssat_plugin_loud_code:Loud", description="prints when imported and built")
    """
)

LOUD_CODE = textwrap.dedent(
    """
    from lssat_framework.interfaces import Descriptor

    print("chatter at the lazy import")

    class Loud(Descriptor):
        def __init__(self):
            super().__init__()
            print("chatter while built")

        def forward(self, images):
            return images[:, :1]
    """
)


def test_what_plugins_print_goes_to_stderr_and_json_output_parses(plugin_path, capsys):
    make_plugin_distribution(plugin_path, "lssat-plugin-loud", "lssat_plugin_loud", LOUD, entry_name="loud")
    (plugin_path / "lssat_plugin_loud_code.py").write_text(LOUD_CODE)
    reset_plugin_manager(shipped_plugin_manager(plugin_path))
    captured = capsys.readouterr()
    assert captured.out == "" and "chatter at import" in captured.err

    assert cli.main(["plugins", "--json"]) == 0
    captured = capsys.readouterr()
    assert {record["name"] for record in json.loads(captured.out)} >= {"loud", "descriptors"}
    assert "chatter in a hook" in captured.err

    assert cli.main(["list", "descriptor", "--json"]) == 0
    listed = {record["name"]: record for record in json.loads(capsys.readouterr().out)}
    assert listed["loud"]["distribution"] == "lssat-plugin-loud" and listed["loud"]["description"] == "prints when imported and built"

    lssat_framework.create("descriptor", "loud")
    captured = capsys.readouterr()
    assert captured.out == "" and "chatter at the lazy import" in captured.err and "chatter while built" in captured.err
