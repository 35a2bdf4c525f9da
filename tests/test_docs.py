"""The README and the docs stay true to the code."""

import re
import runpy
import tomllib
import types
from pathlib import Path

import pytest
import torch
import yaml

from lssat_framework import cli
from lssat_framework.plugins import KINDS, PluginManager, reset_plugin_manager
from lssat_framework.spec import load_spec

from conftest import ROOT, make_plugin_distribution, shipped_plugin_manager


def readme():
    return (ROOT / "README.md").read_text()


def fenced_after(marker: str) -> str:
    match = re.search(re.escape(marker) + r"\s*```bash\n(.*?)```", readme(), flags=re.DOTALL)
    assert match, marker
    return match.group(1).strip()


def test_readme_has_the_two_set_up_commands():
    assert fenced_after("<!-- run-command -->") == "pip install -e . && lssat-run quickstart"
    assert fenced_after("<!-- test-command -->") == (
        'pip install -e ".[test]" -e plugins/lssat-plugin-example && python -m pytest -q -n auto --dist loadfile')


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text()
    assert "<!-- test-command -->" in ci and "README.md" in ci


def test_readme_tour_shows_the_shipped_quickstart():
    block = re.search(r"```yaml\n(.*?)```", readme(), flags=re.DOTALL).group(1)
    tour = yaml.safe_load(block)
    shipped = load_spec(ROOT / "lssat_framework" / "specs" / "quickstart.yaml").raw
    for section in ("data", "task", "backbone", "descriptors", "ssl", "classify", "loss"):
        assert tour[section] == shipped[section], section
    for key, value in tour["train"].items():
        assert shipped["train"][key] == value, key


def test_docs_link_to_existing_files():
    for page in [ROOT / "README.md", *(ROOT / "docs").glob("*.md")]:
        for target in re.findall(r"\]\(([^)#]+)\)", page.read_text()):
            if not target.startswith("http"):
                assert (page.parent / target).exists(), f"{page.name} links to missing {target}"


def test_spec_reference_is_up_to_date():
    from lssat_framework.spec.reference import spec_reference

    page = (ROOT / "docs" / "spec-reference.md").read_text()
    assert page == spec_reference(), "docs/spec-reference.md is stale: python -m lssat_framework.spec.reference > docs/spec-reference.md"


def runnable_blocks():
    for page in sorted((ROOT / "docs").glob("*.md")):
        for block in re.findall(r"<!-- runnable -->\s*```bash\n(.*?)```", page.read_text(), flags=re.DOTALL):
            yield page.name, block


def test_there_are_runnable_blocks():
    assert {name for name, _ in runnable_blocks()} >= {"running.md", "plugins.md"}


#: commands of the docs' blocks that must run the scratch environment's interpreter, as the
#: console scripts pip writes there would
SCRIPTS = {"pip": "-m pip", "lssat": "-m lssat_framework", "lssat-run": "-c 'import sys; from lssat_framework.cli import run_main; sys.exit(run_main())'"}


def scratch_environment(folder: Path) -> Path:
    """A venv of its own whose site-packages also see this environment's (a ``.pth`` adds them
    after its own), its ``bin`` the returned folder. The docs' ``pip install`` goes there: this
    environment's installation of the example plugin is never replaced (it pointed into the
    test's folder once the test ended, and changed under other processes' tests meanwhile), in
    a venv or not (a user-site install, as before, is refused inside a venv)."""
    import site
    import subprocess
    import venv

    venv.create(folder, with_pip=False)
    python = folder / "bin" / "python"
    own = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], capture_output=True, text=True, check=True).stdout.strip()
    seen = [*site.getsitepackages(), *([site.getusersitepackages()] if site.ENABLE_USER_SITE else [])]
    (Path(own) / "_environment_under_test.pth").write_text("import site; " + "; ".join(f"site.addsitedir({d!r})" for d in seen if Path(d).is_dir()) + "\n")
    for name, arguments in SCRIPTS.items():
        script = folder / "bin" / name
        script.write_text(f'#!/bin/sh\nexec "{python}" {arguments} "$@"\n')
        script.chmod(0o755)
    return folder / "bin"


def test_runnable_doc_blocks_run_as_written(tmp_path):
    import os
    import subprocess

    (tmp_path / "plugins").symlink_to(ROOT / "plugins")
    scripts = scratch_environment(tmp_path / "env")
    # PIP_NO_BUILD_ISOLATION=0 (pip reads it as --no-build-isolation): the plugin builds with this
    # environment's setuptools, never one fetched from the index (1.8 s less, and no network)
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TQDM_DISABLE": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_NO_BUILD_ISOLATION": "0",
           "PATH": f"{scripts}{os.pathsep}{os.environ['PATH']}", "VIRTUAL_ENV": str(tmp_path / "env")}
    for name, block in runnable_blocks():
        result = subprocess.run(["bash", "-euo", "pipefail", "-c", block], cwd=tmp_path, capture_output=True, text=True, env=env, timeout=600)
        assert result.returncode == 0, f"{name}:\n{block}\n{result.stderr[-2000:]}"
    installed = subprocess.run([scripts / "python", "-c", "import importlib.metadata as m; print(m.distribution('lssat-plugin-example')._path)"],
                               capture_output=True, text=True, env=env, check=True).stdout
    assert installed.startswith(str(tmp_path / "env")), installed  # the block's install, in the scratch environment
    import importlib.metadata

    assert not str(importlib.metadata.distribution("lssat-plugin-example")._path).startswith(str(tmp_path))  # this environment's stays


# ----------------------------------------------------------------------- Python blocks
def python_blocks():
    """(page, marker, code) of every Python block in the docs; the marker is the HTML comment
    right above it: `runnable`, `fragment` or `excerpt: PATH`."""
    for page in sorted((ROOT / "docs").glob("*.md")):
        for marker, code in re.findall(r"(?:<!-- ([^>]*?) -->\s*)?```python\n(.*?)```", page.read_text(), flags=re.DOTALL):
            yield page.name, marker, code


def test_every_python_block_says_whether_it_is_complete():
    """Issue 16 item 29: a block meant to be complete runs in a test; the rest say they are not."""
    for page, marker, code in python_blocks():
        assert marker in ("runnable", "fragment") or marker.startswith("excerpt: "), f"{page}: unmarked block\n{code}"
    assert {page for page, marker, _ in python_blocks() if marker == "runnable"} >= {"plugins.md", "hooks.md"}


@pytest.mark.parametrize("index", range(sum(marker == "runnable" for _, marker, _ in python_blocks())))
def test_runnable_python_blocks_run_and_register(tmp_path, index):
    """Issue 16 item 29: hooks.md's TinyConv lacked `import torch` and refused its own `width`."""
    page, _, code = [block for block in python_blocks() if block[1] == "runnable"][index]
    script = tmp_path / "block.py"
    script.write_text(code)
    namespace = runpy.run_path(str(script), run_name="__main__")  # runs a `__main__` try-it section too
    manager = PluginManager(autoload=False, strict=True)  # any failing registration raises
    manager.add_plugin(types.SimpleNamespace(**namespace), name="docs-block", distribution="lssat-plugin-docs")
    assert [info.status for info in manager.report()] == ["ok"], page
    assert manager.report()[0].hooks, f"{page}: the block implements no hook"
    reset_plugin_manager(manager)
    cli.build_parser()  # its commands join the CLI's without a clash


def test_excerpts_match_the_files_they_quote():
    for page, marker, code in python_blocks():
        if marker.startswith("excerpt: "):
            source = {line.split("  #")[0].rstrip() for line in (ROOT / marker.removeprefix("excerpt: ")).read_text().splitlines()}
            for line in code.splitlines():
                assert line.split("  #")[0].rstrip() in source, f"{page}: {line!r} is not in {marker}"


def test_docs_say_where_plugin_manager_lives():
    """Issue 16 item 29: plugins.md used PluginManager without saying where it is."""
    for page in (ROOT / "docs").glob("*.md"):
        text = page.read_text()
        if "PluginManager" in text:
            assert "from lssat_framework.plugins import PluginManager" in text or "`lssat_framework.plugins`" in text, page.name


def registered_names(text: str) -> set[str]:
    return set(re.findall(r"(?:register|add_parser)\(\s*\"([^\"{]+)\"", text))


def test_doc_examples_use_names_no_shipped_or_test_plugin_uses():
    """Issue 16 item 28: following docs/plugins.md registered `cslbp` a second time, and hooks.md's
    names were those of the tests' plugin, so a user installing them broke the page and the tests."""
    # an excerpt quotes a shipped file (its names are that plugin's own); the rest are written anew
    in_docs = set().union(*(registered_names(code) for _, marker, code in python_blocks() if not marker.startswith("excerpt: ")))
    sources = [*(ROOT / "tests").rglob("*.py"), *(ROOT / "plugins").rglob("*.py"), *(ROOT / "lssat_framework").rglob("*.py")]
    taken = set().union(*(registered_names(path.read_text()) for path in sources))
    manager = shipped_plugin_manager()
    taken |= {component.name for kind in KINDS for component in manager.components(kind)}
    assert {"cslbp-3x3", "patch-conv", "greet"} <= in_docs
    assert not in_docs & taken


def test_the_smallest_plugin_installs_and_computes_centre_symmetric_lbp(plugin_path):
    """Issue 16 item 28: the "smallest" CS-LBP was plain LBP under the example plugin's name."""
    page = (ROOT / "docs" / "plugins.md").read_text()
    project = tomllib.loads(re.search(r"```toml\n(.*?)```", page, flags=re.DOTALL).group(1))["project"]
    ((entry, module),) = project["entry-points"]["lssat"].items()
    source = re.search(rf"`{module}\.py`:\s*(?:<!-- [^>]*-->\s*)?```python\n(.*?)```", page, flags=re.DOTALL).group(1)
    make_plugin_distribution(plugin_path, project["name"], module, source, entry_name=entry, version=project["version"])
    manager = shipped_plugin_manager(plugin_path, strict=True)
    assert "cslbp-3x3" in manager.list("descriptor", "cslbp*")  # the page's next step, beside the example's cslbp

    hand = torch.tensor([[10, 20, 30], [40, 50, 60], [70, 80, 90]], dtype=torch.float32).div(255)[None, None]
    codes = lambda image: (manager.create("descriptor", "cslbp-3x3")(image) * 15).round().long()[0, 0]  # noqa: E731
    assert codes(hand)[1, 1] == 0b0001  # only east (60) outshines its opposite, west (40)

    image = torch.rand(1, 3, 5, 6)
    gray = manager.create("descriptor", "gray")(image)[0, 0]
    ring = [(0, 1), (-1, 1), (-1, 0), (-1, -1), (0, -1), (1, -1), (1, 0), (1, 1)]  # neighbour i + 4 faces i

    def level(y, x):  # edge pixels replicated
        return gray[min(max(y, 0), 4), min(max(x, 0), 5)]

    expected = torch.tensor([[
        sum(2**i for i in range(4) if level(y + ring[i][0], x + ring[i][1]) - level(y + ring[i + 4][0], x + ring[i + 4][1]) > 0.01)
        for x in range(6)] for y in range(5)])
    assert torch.equal(codes(image), expected)
