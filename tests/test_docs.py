"""The README and the docs stay true to the code."""

import re

import yaml

from lssat_framework.spec import load_spec

from conftest import ROOT


def readme():
    return (ROOT / "README.md").read_text()


def fenced_after(marker: str) -> str:
    match = re.search(re.escape(marker) + r"\s*```bash\n(.*?)```", readme(), flags=re.DOTALL)
    assert match, marker
    return match.group(1).strip()


def test_readme_has_the_two_set_up_commands():
    assert fenced_after("<!-- run-command -->") == "pip install -e . && lssat-run specs/quickstart.yaml"
    assert fenced_after("<!-- test-command -->") == 'pip install -e ".[test]" -e plugins/lssat-plugin-example && python -m pytest -q'


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text()
    assert "<!-- test-command -->" in ci and "README.md" in ci


def test_readme_tour_shows_the_shipped_quickstart():
    block = re.search(r"```yaml\n(.*?)```", readme(), flags=re.DOTALL).group(1)
    tour = yaml.safe_load(block)
    shipped = load_spec(ROOT / "specs" / "quickstart.yaml").raw
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
    from lssat_framework.reference import spec_reference

    page = (ROOT / "docs" / "spec-reference.md").read_text()
    assert page == spec_reference(), "docs/spec-reference.md is stale: python -m lssat_framework.reference > docs/spec-reference.md"


def runnable_blocks():
    for page in sorted((ROOT / "docs").glob("*.md")):
        for block in re.findall(r"<!-- runnable -->\s*```bash\n(.*?)```", page.read_text(), flags=re.DOTALL):
            yield page.name, block


def test_there_are_runnable_blocks():
    assert {name for name, _ in runnable_blocks()} >= {"running.md", "plugins.md"}


def test_runnable_doc_blocks_run_as_written(tmp_path):
    import os
    import shutil
    import subprocess

    shutil.copytree(ROOT / "specs", tmp_path / "specs")
    (tmp_path / "plugins").symlink_to(ROOT / "plugins")
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TQDM_DISABLE": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    for name, block in runnable_blocks():
        result = subprocess.run(["bash", "-euo", "pipefail", "-c", block], cwd=tmp_path, capture_output=True, text=True, env=env, timeout=600)
        assert result.returncode == 0, f"{name}:\n{block}\n{result.stderr[-2000:]}"
