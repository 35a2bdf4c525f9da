"""What ``lssat validate`` refuses in a spec's text: YAML a spec may not use, names that break
key paths, sweep axes in words (the build-time checks: test_build_checks.py)."""


import pytest
import yaml

from lssat_framework.errors import LssatError, SpecError
from lssat_framework.spec import MAX_ALIAS_VALUES, load_spec, validate_spec


def write(tmp_path, data, name="spec.yaml"):
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data, sort_keys=False))
    return path


def problems_of(error: SpecError) -> dict[str, str]:
    return {path.split(" ")[0]: message for path, message in error.problems}


# ------------------------------------------------------------------------------- YAML
def test_duplicate_key_is_an_error_naming_both_lines(tmp_path, tiny_spec):
    """Issue 16 item 18: a second ``descriptors:`` block silently replaced the first."""
    text = yaml.safe_dump(tiny_spec, sort_keys=False)
    first = text.splitlines().index("descriptors:") + 1
    text += "descriptors:\n  hog: {name: hog}\n"
    second = len(text.splitlines()) - 1
    with pytest.raises(LssatError) as err:
        load_spec(write(tmp_path, text))
    message = str(err.value)
    assert f"spec.yaml:{second}: duplicate key 'descriptors' (also at line {first})" in message


def test_duplicate_key_deep_in_the_spec_is_an_error(tmp_path):
    """Issue 16 item 18: duplicates are refused at any depth, in ``--set`` values too."""
    path = write(tmp_path, "name: x\ndescriptors:\n  ldp:\n    name: ldp\n    params: {k: 3, k: 5}\n")
    with pytest.raises(LssatError, match=r"spec.yaml:5: duplicate key 'k' \(also at line 5, column 14\)"):
        load_spec(path)
    with pytest.raises(LssatError, match="cannot parse value .*: duplicate key 'epochs'"):
        load_spec(write(tmp_path, "name: x\n", "other.yaml"), ["train={epochs: 1, epochs: 2}"])


def test_merge_keys_may_still_be_overridden_beside_them(tmp_path):
    """Issue 16 item 18: ``<<: *base`` followed by one of base's keys is an override, not a duplicate."""
    from lssat_framework.spec import load_yaml

    data, _ = load_yaml(write(tmp_path, "base: &base {k: 3, radius: 1}\nldp:\n  <<: *base\n  k: 5\n"))
    assert data["ldp"] == {"k": 5, "radius": 1}


def test_recursive_alias_is_refused_with_its_line(tmp_path):
    """Issue 16 item 19: a self-referencing alias was a raw RecursionError."""
    path = write(tmp_path, "name: x\ntrain:\n  augment: &loop\n    flip: [*loop]\n")
    with pytest.raises(LssatError) as err:
        load_spec(path)
    assert "spec.yaml:4: alias *loop is used inside the value it names (anchor &loop at line 3)" in str(err.value)
    assert not isinstance(err.value, RecursionError)


def billion_laughs(levels: int) -> str:
    lines = ["name: laughs", 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for previous, current in zip("abcdefghijklmnop", "bcdefghijklmnop"[: levels - 1]):
        lines.append(f"{current}: &{current} [{', '.join([f'*{previous}'] * 10)}]")
    return "\n".join(lines) + "\n"


def test_billion_laughs_is_refused_before_it_expands(tmp_path):
    """Issue 16 item 19: a 552-byte spec of nine nested aliases took 21 s (and each level ×10)."""
    text = billion_laughs(9)
    assert len(text) < 600
    with pytest.raises(LssatError) as err:
        load_spec(write(tmp_path, text))
    message = str(err.value)
    assert "spec.yaml:10: alias *h stands for 111,111,111 values" in message
    assert f"at most {MAX_ALIAS_VALUES:,}" in message


def test_a_few_aliases_are_fine(tmp_path, tiny_spec):
    """Issue 16 item 19: the bound leaves ordinary anchors alone."""
    text = yaml.safe_dump(tiny_spec, sort_keys=False) + "sweep:\n  arch:\n    a: &common {backbone.params.depth: 1, train.lr: 1.0e-3}\n    b: *common\n"
    resolved = load_spec(write(tmp_path, text))
    assert resolved.spec.sweep["arch"]["b"] == {"backbone.params.depth": 1, "train.lr": 1.0e-3}


# ------------------------------------------------------------------------ names and sweeps
def test_modality_name_with_a_dot_is_refused_with_the_allowed_characters(tiny_spec):
    """Issue 16 item 15: ``descriptors: {ldp.k3: ...}`` skipped stage 2 and failed at run time."""
    tiny_spec["descriptors"] = {"ldp.k3": {"name": "ldp", "params": {"k": 3}}}
    tiny_spec["ssl"]["params"]["reconstruct"] = ["ldp.k3"]
    with pytest.raises(SpecError) as err:
        validate_spec(tiny_spec)
    message = problems_of(err.value)["descriptors.ldp.k3"]
    assert "letters, digits, '_' and '-' only" in message and "e.g. 'ldp_k3'" in message


@pytest.mark.parametrize(
    "axis, expected",
    [
        (1.0e-3, "a sweep axis is a list of values (train.lr: [1.0e-3, 3.0e-4]) or a mapping of named variants"),
        ({"small": 6}, "variant 'small' must be a mapping of dotted keys to values"),
        ([], "the axis has no values"),
    ],
    ids=["scalar", "variant-not-a-mapping", "empty"],
)
def test_a_wrong_sweep_axis_is_said_in_words(tiny_spec, axis, expected):
    """Issue 16, messages: a typo in a sweep axis reported ``sweep.train.lr.list[any]...``."""
    tiny_spec["sweep"] = {"train.lr": axis}
    with pytest.raises(SpecError) as err:
        validate_spec(tiny_spec)
    assert list(problems_of(err.value)) == ["sweep.train.lr"]
    assert expected in problems_of(err.value)["sweep.train.lr"]
    assert "list[" not in str(err.value) and "dict[" not in str(err.value)
