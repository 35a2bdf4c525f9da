"""What counts as a changed setting between a run's stored spec and a new one."""

import yaml

from lssat_framework.spec.changes import spec_differences


def test_the_world_size_is_compared_though_the_rest_of_the_launcher_is_not(tmp_path, tiny_spec):
    """Stale detection took the whole launcher as result-neutral, but nodes × gpus_per_node sets
    the effective batch and the lr scaled from base_lr (2.5e-4 with 8 processes, 3.1e-5 with 1)."""
    tiny_spec["launcher"] = {"partition": "gpu", "gpus_per_node": 1}
    (tmp_path / "spec.yaml").write_text(yaml.safe_dump(tiny_spec))
    assert spec_differences(tmp_path, {**tiny_spec, "launcher": {"partition": "other", "gpus_per_node": 1}}) == []
    assert spec_differences(tmp_path, {**tiny_spec, "launcher": {"gpus_per_node": 8}}) == ["launcher.gpus_per_node"]
    assert spec_differences(tmp_path, {**tiny_spec, "launcher": {"nodes": 2, "gpus_per_node": 1}}) == ["launcher.nodes"]
    assert spec_differences(tmp_path, {**tiny_spec, "train": {**tiny_spec["train"], "num_workers": 4}}) == []
    assert spec_differences(tmp_path, {**tiny_spec, "train": {**tiny_spec["train"], "lr": 0.5}}) == ["train.lr"]
