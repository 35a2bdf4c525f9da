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
