"""The example specs ship inside the package: found by name (a file of that name wins), listed by
``lssat specs``, copied out by ``lssat init``, and held by the wheel a build makes."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

from lssat_framework import cli
from lssat_framework.spec.shipped import find_spec, shipped_specs
from lssat_framework.spec.validation import load_spec

ROOT = Path(__file__).resolve().parents[1]
SPECS = ROOT / "lssat_framework" / "specs"
EXPECTED = {"quickstart", "study", "MRGB-RLDP-CRGB", "MLDP-RRGB-CRGB", "MLDP-RLDP-CRGB", "MRGB-RRGBLDP-CRGB",
            "MLDP-RLDP-CLDP", "SSAT-MRGB-RRGB-CRGB", "SUP-CRGB"}


def test_every_spec_file_ships_under_its_own_name():
    files = sorted(SPECS.rglob("*.yaml"))
    assert {path.stem for path in files} == EXPECTED == set(shipped_specs())
    assert len(files) == len(EXPECTED), "two shipped specs share a name"


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_shipped_spec_validates_by_name(name, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)  # no file of that name here: the name alone finds it
    assert cli.main(["validate", name]) == 0, capsys.readouterr().err
    assert capsys.readouterr().out.startswith(f"{name}: valid")


def test_a_name_resolves_to_the_packaged_file_and_stays_the_source(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert find_spec("quickstart") == SPECS / "quickstart.yaml"
    resolved = load_spec("quickstart", ["train.epochs=1"])
    assert resolved.source == "quickstart" and resolved.spec.name == "quickstart" and resolved.spec.train.epochs == 1


def test_a_file_of_that_name_wins_over_the_shipped_spec(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    text = (SPECS / "quickstart.yaml").read_text().replace("name: quickstart", "name: mine")
    Path("quickstart").write_text(text)
    assert load_spec("quickstart").spec.name == "mine"


def test_a_missing_spec_names_the_shipped_ones(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert cli.main(["validate", "specs/quickstart.yaml"]) == 2
    err = capsys.readouterr().err
    assert "spec file not found: specs/quickstart.yaml" in err and "lssat specs" in err
    assert all(name in err for name in EXPECTED)
    assert "Traceback" not in err


def test_lssat_specs_lists_each_with_its_first_comment_line(capsys):
    assert cli.main(["specs"]) == 0
    lines = capsys.readouterr().out.splitlines()
    for name in EXPECTED:
        first = next(SPECS.rglob(f"{name}.yaml")).read_text().splitlines()[0].lstrip("# ")
        assert any(line.split() and line.split()[0] == name and line.endswith(first) for line in lines), name
    assert lines[0].startswith("quickstart ")  # the package's own folder first, then configs/


def test_lssat_init_copies_a_spec_out_and_never_replaces_a_file(tmp_path, capsys):
    folder = tmp_path / "mine"
    assert cli.main(["init", "study", str(folder)]) == 0
    written = folder / "study.yaml"
    assert written.read_text() == (SPECS / "study.yaml").read_text()
    out = capsys.readouterr().out
    assert str(written) in out and f"lssat-run {written}" in out

    written.write_text("# edited\n")
    assert cli.main(["init", "study", str(folder)]) == 2
    assert "never replaces" in capsys.readouterr().err
    assert written.read_text() == "# edited\n"


def test_lssat_init_writes_no_file_through_a_link(tmp_path, capsys):
    elsewhere = tmp_path / "elsewhere.yaml"
    (tmp_path / "quickstart.yaml").symlink_to(elsewhere)
    assert cli.main(["init", "quickstart", str(tmp_path)]) == 2
    assert not elsewhere.exists()


def test_lssat_init_of_an_unknown_name_lists_the_shipped_ones(tmp_path, capsys):
    assert cli.main(["init", "quickstrat", str(tmp_path)]) == 2
    assert "quickstart" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


def test_the_package_data_patterns_cover_every_spec():
    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["lssat_framework"]
    packaged = {path for pattern in patterns for path in (ROOT / "lssat_framework").glob(pattern)}
    assert set(SPECS.rglob("*.yaml")) <= packaged


def test_the_built_wheel_holds_the_specs_and_the_licence(tmp_path):
    """A wheel built from a copy of the sources (setuptools' own build hook, a few seconds)."""
    source = tmp_path / "source"
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info")
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / name, source / name)
    for folder in ("lssat_framework", "plugins"):
        shutil.copytree(ROOT / folder, source / folder, ignore=ignore)
    build = "import sys; from setuptools import build_meta; print(build_meta.build_wheel(sys.argv[1]))"
    result = subprocess.run([sys.executable, "-c", build, str(tmp_path / "dist")], cwd=source, capture_output=True,
                            text=True, timeout=300, env={**os.environ, "PIP_NO_INDEX": "1"})
    assert result.returncode == 0, result.stderr[-2000:]
    wheel = tmp_path / "dist" / result.stdout.strip().splitlines()[-1]
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {f"lssat_framework/{path.relative_to(ROOT / 'lssat_framework').as_posix()}" for path in SPECS.rglob("*.yaml")}
    assert expected <= names, sorted(expected - names)
    metadata = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    assert "License-Expression: MIT" in metadata and any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
