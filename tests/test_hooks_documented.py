"""Like datasette's: every hook spec is documented, and every hook is exercised by a test."""

import re

from lssat_framework import hookspecs

from conftest import ROOT

HOOKS = sorted(name for name in dir(hookspecs) if name.startswith("register_"))


def test_there_are_hooks_for_every_kind_of_component():
    assert {"register_backbones", "register_descriptors", "register_ssl_objectives", "register_tasks", "register_datasets"} <= set(HOOKS)


def test_every_hook_spec_is_documented():
    docs = (ROOT / "docs" / "hooks.md").read_text()
    headings = set(re.findall(r"^## `?(register_\w+)", docs, flags=re.MULTILINE))
    assert set(HOOKS) <= headings, f"undocumented hooks: {set(HOOKS) - headings}"


def test_every_hook_has_a_docstring():
    for name in HOOKS:
        assert (getattr(hookspecs, name).__doc__ or "").strip(), name


def test_every_hook_is_implemented_in_a_test():
    # test modules and the helper plugins they import (e.g. every_kind.py)
    tests = "".join(p.read_text() for p in (ROOT / "tests").glob("*.py") if p.name != "test_hooks_documented.py")
    for name in HOOKS:
        assert f"def {name}(" in tests, f"no test implements {name}"
