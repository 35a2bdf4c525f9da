"""Issue 22: a spec or a sweep folder from someone else writes and deletes only inside the folders
the user pointed at, and puts nothing on a line of its own in a job script. Validation-level
tests: nothing here trains."""

import json
import os
import socket
import subprocess
import sys

import pytest
import yaml

from lssat_framework import cli
from lssat_framework.errors import LssatError, SpecError
from lssat_framework.sweep.launchers import SlurmLauncher
from lssat_framework.files.safe import UnsafePathError, is_inside
from lssat_framework.spec import validate_spec
from lssat_framework.sweep.grid import expand
from lssat_framework.sweep.launch import refuse_stale, run_sweep

INJECTED = "gpu\ntouch pwned #"


def problems_of(spec):
    with pytest.raises(SpecError) as raised:
        validate_spec(spec)
    return dict(raised.value.problems)


def grid(spec, sweep):
    spec["sweep"] = sweep
    return expand(validate_spec(spec))


def plant_stale(run_dir, variant):
    """``run_dir`` as a variant run with another spec (``train.epochs: 5``), plus a file to keep."""
    run_dir.mkdir(parents=True, exist_ok=True)
    raw = {**variant.resolved.raw, "train": {**variant.resolved.raw["train"], "epochs": 5}}
    (run_dir / "spec.yaml").write_text(yaml.safe_dump(raw))
    (run_dir / "keep.txt").write_text("precious")


# ------------------------------------------------------------------ names
@pytest.mark.parametrize("name", ["../../x", "/abs/path", ".hidden", "two words", "a/b"])
def test_a_spec_name_that_is_not_a_folder_name_is_refused_naming_the_key(tiny_spec, name):
    tiny_spec["name"] = name
    problems = problems_of(tiny_spec)
    assert list(problems) == ["name"]
    assert "letters, digits and '-', '_' or '.', not starting with '.'" in problems["name"] and repr(name) in problems["name"]


def test_plain_names_and_the_names_of_sweep_variants_pass(tiny_spec):
    for name in ("study", "MRGB-RLDP-CRGB", "v1.2_b", "study__backbone.depth=1__data=FF++"):
        tiny_spec["name"] = name
        assert validate_spec(tiny_spec).spec.name == name


def test_group_and_axis_names_with_dots_and_slashes_stay_inside_the_sweep_folder(tmp_path, tiny_spec):
    """A named group ``../../keep2`` made the variant folder ``runs/x/../../keep2=...``."""
    variants = grid(tiny_spec, {"../../keep2": {"../y": {"train.lr": 0.01}, "/abs": {"train.lr": 0.02}},
                                "train.optimizer": ["../../up", "adamw"]})
    out = tmp_path / "sweep"
    assert [v.name for v in variants][:2] == ["keep2=y__train.optimizer=up", "keep2=y__train.optimizer=adamw"]
    for variant in variants:
        assert "/" not in variant.name and not variant.name.startswith(".") and is_inside(out, out / variant.name)
        validate_spec(variant.resolved.raw)  # the variant's own spec (stored in its folder) is valid again


def test_rerun_changed_never_deletes_a_folder_outside_the_sweep_folder(tmp_path, tiny_spec):
    variants = grid(tiny_spec, {"../../keep2": {"x": {"train.lr": 0.01}}})
    out = tmp_path / "a" / "b" / "sweep"
    out.mkdir(parents=True)
    outside = tmp_path / "a" / "keep2=x"  # where the variant's folder used to resolve
    plant_stale(outside, variants[0])
    refuse_stale(out, list(enumerate(variants)), rerun_changed=True)
    assert (outside / "keep.txt").read_text() == "precious"


@pytest.mark.parametrize("planted", ["variant", "sweep.json"])
def test_a_symlink_in_an_existing_sweep_folder_is_refused_before_anything_is_written_or_deleted(tmp_path, tiny_spec, monkeypatch, planted):
    monkeypatch.setattr("lssat_framework.train.train", lambda *args, **kwargs: pytest.fail("nothing may run"))
    tiny_spec["sweep"] = {"backbone.params.depth": [1, 2]}
    resolved = validate_spec(tiny_spec)
    variant = expand(resolved)[0]
    out, elsewhere = tmp_path / "sweep", tmp_path / "elsewhere"
    out.mkdir()
    plant_stale(elsewhere, variant)
    link = out / (variant.name if planted == "variant" else "sweep.json")
    link.symlink_to(elsewhere if planted == "variant" else elsewhere / "keep.txt")
    with pytest.raises(UnsafePathError, match="symlink"):
        run_sweep(resolved, out=out, rerun_changed=True, check_data=False)
    assert sorted(p.name for p in elsewhere.iterdir()) == ["keep.txt", "spec.yaml"]
    assert (elsewhere / "keep.txt").read_text() == "precious"


def test_the_links_submitit_makes_in_its_folder_do_not_stop_a_slurm_sweep_launched_again(tmp_path, tiny_spec, monkeypatch):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    # sinfo: a node large enough for the jobs, whatever Slurm the host has
    for name, body in {"sbatch": 'echo "Submitted batch job 4242"', "srun": "true", "sinfo": 'echo "debug*|64|256000"'}.items():
        (bin_dir / name).write_text(f"#!/bin/sh\n{body}\n")
        (bin_dir / name).chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    tiny_spec["sweep"] = {"backbone.params.depth": [1, 2]}
    out = tmp_path / "sweep"
    for _ in range(2):
        run_sweep(validate_spec(tiny_spec), out=out, launcher="slurm", check_data=False)
    assert [p.name for p in (out / ".submitit").iterdir() if p.is_symlink()]  # submitit's own, accepted
    (tmp_path / "outside.sh").write_text("")
    (out / ".submitit" / ".submission_file_planted.sh").symlink_to(tmp_path / "outside.sh")  # named as submitit's, leads outside
    with pytest.raises(UnsafePathError, match="submission_file_planted.sh is a symlink"):
        run_sweep(validate_spec(tiny_spec), out=out, launcher="slurm", check_data=False)


def test_rerun_changed_refuses_to_delete_through_a_symlinked_variant(tmp_path, tiny_spec):
    """The deletion itself refuses a link, also where the folder was not checked first."""
    variants = grid(tiny_spec, {"backbone.params.depth": [1]})
    out, elsewhere = tmp_path / "sweep", tmp_path / "elsewhere"
    out.mkdir()
    plant_stale(elsewhere, variants[0])
    (out / variants[0].name).symlink_to(elsewhere)
    with pytest.raises(UnsafePathError, match="refusing to delete"):
        refuse_stale(out, list(enumerate(variants)), rerun_changed=True)
    assert (elsewhere / "keep.txt").read_text() == "precious"


def test_rerun_changed_refuses_a_variant_a_live_process_writes(tmp_path, tiny_spec):
    variants = grid(tiny_spec, {"backbone.params.depth": [1, 2]})
    out = tmp_path / "sweep"
    for variant in variants:
        plant_stale(out / variant.name, variant)
    held = out / variants[1].name
    holder = subprocess.Popen([sys.executable, "-c", "import time\nfrom lssat_framework.files.lock import RunLock\n"
                               f"RunLock({str(held)!r}).acquire(); print('held', flush=True); time.sleep(120)"],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(LssatError, match=r"(?s)--rerun-changed: a live process writes this variant, so nothing was deleted") as raised:
            refuse_stale(out, list(enumerate(variants)), rerun_changed=True)
        assert f"{variants[1].name}: host {socket.gethostname()}, pid {holder.pid}" in str(raised.value)
        assert variants[0].name not in str(raised.value)
        assert all((out / v.name / "keep.txt").is_file() for v in variants)
    finally:
        holder.kill()
        holder.wait()


def test_a_sweep_folder_whose_manifest_names_folders_outside_it_is_refused(tmp_path, capsys):
    out = tmp_path / "sweep"
    out.mkdir()
    manifest = {"name": "x", "source": None, "axes": {}, "variants": [{"index": 0, "name": "../../elsewhere", "choice": {}, "raw": {}}]}
    (out / "sweep.json").write_text(json.dumps(manifest))
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "summary.json").write_text("{}")
    assert cli.main(["sweep", "status", str(out)]) == 2
    err = capsys.readouterr().err
    assert "variant '../../elsewhere'" in err and "is not inside the sweep folder" in err


# ------------------------------------------------------------------ collisions
def test_two_variants_that_would_share_a_folder_are_refused_naming_both(tiny_spec):
    tiny_spec["sweep"] = {"loss": {"a b": {"loss.task": 0.1}, "a-b": {"loss.task": 0.2}, "A-B": {"loss.task": 0.3}},
                          "data.params.root": ["/data/FF++/c23", "/data/FF++-c23"]}
    with pytest.raises(SpecError) as raised:
        expand(validate_spec(tiny_spec))
    problems = raised.value.problems
    assert ("sweep.loss", problems[0][1]) == problems[0] and "'a b' and 'a-b' both become the folder name 'a-b'" in problems[0][1]
    assert "'a b' and 'A-B'" in problems[1][1] and "case is ignored" in problems[1][1]
    assert problems[2][0] == "sweep.data.params.root"
    assert "'/data/FF++/c23' and '/data/FF++-c23' both become the folder name 'data-FF++-c23'" in problems[2][1]


def test_a_value_given_twice_is_refused(tiny_spec):
    tiny_spec["sweep"] = {"seed": [0, 1, 0]}
    with pytest.raises(SpecError, match=r"sweep\.seed: '0' is there twice"):
        expand(validate_spec(tiny_spec))


# ------------------------------------------------------------------ launcher strings
@pytest.mark.parametrize("field", ["partition", "account", "qos", "constraint"])
@pytest.mark.parametrize("value", [INJECTED, "gpu\r", "a\tb", "a\x00b"])
def test_a_newline_or_control_character_in_a_launcher_field_is_refused_naming_the_key(tiny_spec, field, value):
    tiny_spec["launcher"] = {field: value}
    problems = problems_of(tiny_spec)
    assert list(problems) == [f"launcher.{field}"]
    assert problems[f"launcher.{field}"].startswith("contains a newline or control character;")


def test_sbatch_keys_are_option_names_and_values_one_line_scalars(tiny_spec):
    tiny_spec["launcher"] = {"sbatch": {"mail-type": INJECTED, "exclude": "node17", "bad key": "x", "x\ny": "z",
                                        "comment;touch": "x", "nodelist": ["a", "b"], "exclusive": True}}
    problems = problems_of(tiny_spec)
    assert problems["launcher.sbatch.mail-type"].startswith("contains a newline or control character;")
    assert "'bad key' is not an sbatch option name" in problems["launcher.sbatch.bad key"]
    assert "'x\\ny' is not an sbatch option name" in problems["launcher.sbatch.'x\\ny'"]
    assert "not an sbatch option name" in problems["launcher.sbatch.comment;touch"]
    assert "a string, a number or true" in problems["launcher.sbatch.nodelist"]
    assert len(problems) == 5  # exclude and exclusive are fine


@pytest.mark.parametrize("key", ["output", "error", "chdir", "job-name", "array"])
def test_sbatch_options_that_would_move_the_jobs_logs_or_folder_are_refused(tiny_spec, key):
    """`output: /home/u/.bashrc` had Slurm append the job's log there."""
    tiny_spec["launcher"] = {"sbatch": {key: "/elsewhere/x"}}
    assert "is set by the launcher itself" in problems_of(tiny_spec)[f"launcher.sbatch.{key}"]


def test_a_valid_launcher_reaches_submitit_unchanged(tmp_path, tiny_spec):
    tiny_spec["launcher"] = {"partition": "gpu-a100", "account": "lab_1", "qos": "high", "constraint": "a100&ib",
                             "gpus_per_node": 2, "sbatch": {"mail-type": "END,FAIL", "exclude": "node[1-3]", "exclusive": True}}
    settings = validate_spec(tiny_spec).spec.launcher
    parameters = SlurmLauncher(settings, tmp_path / ".submitit", job_name="tiny").parameters()
    assert parameters == {
        "name": "tiny", "nodes": 1, "gpus_per_node": 2, "tasks_per_node": 2, "cpus_per_task": 4, "mem_gb": None, "timeout_min": 60,
        "slurm_partition": "gpu-a100", "slurm_account": "lab_1", "slurm_qos": "high", "slurm_constraint": "a100&ib",
        "slurm_signal_delay_s": 120, "slurm_array_parallelism": 1,
        "slurm_additional_parameters": {"mail-type": "END,FAIL", "exclude": "node[1-3]", "exclusive": True},
    }


def test_an_out_folder_with_a_newline_is_refused_by_the_slurm_launcher(tmp_path, tiny_spec):
    launcher = SlurmLauncher(validate_spec(tiny_spec).spec.launcher, tmp_path / "a\nb" / ".submitit")
    with pytest.raises(LssatError, match="contains a newline or control character"):
        launcher.check()
