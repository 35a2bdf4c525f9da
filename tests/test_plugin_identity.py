"""A plugin is (distribution, entry-point name): names registered twice, entry points named
like a builtin or declared twice, the distribution a warning blames and the one disabling blocks."""

import textwrap

import pytest

from lssat_framework.errors import AmbiguousComponentError

from conftest import make_plugin_distribution, shipped_plugin_manager
from test_plugins import CENTRE_SYMMETRIC


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


def test_a_manager_reads_each_distributions_metadata_once(plugin_path, monkeypatch):
    """Each entry point's distribution name (asked twice) and version parsed the METADATA file
    again: a third of every command's plugin start-up, now once per distribution."""
    import importlib.metadata

    from lssat_framework.plugins import PluginManager

    entry_points = "[lssat]\ncs = lssat_plugin_two\nfaces = lssat_plugin_two\n"
    make_plugin_distribution(plugin_path, "lssat-plugin-two", "lssat_plugin_two", CENTRE_SYMMETRIC, version="2.5", entry_points=entry_points)
    (dist,) = importlib.metadata.distributions(path=[str(plugin_path)])
    reads = []
    original = type(dist).read_text
    monkeypatch.setattr(type(dist), "read_text", lambda self, name: reads.append(name) or original(self, name))
    manager = PluginManager(entry_points=list(dist.entry_points.select(group="lssat")))
    assert sorted((i.name, i.distribution, i.version) for i in manager.report()) == [
        ("cs", "lssat-plugin-two", "2.5"), ("faces", "lssat-plugin-two", "2.5")]
    assert reads.count("METADATA") == 1
