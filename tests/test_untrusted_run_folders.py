"""A run folder from someone else runs no code and sends no write elsewhere (docs/security.md).

Every file that resuming, ``lssat eval`` or ``lssat predict`` reads is replaced in turn by a pickle
that would create a marker file when unpickled: no command may create it, and each either works
or ends with one clear error (exit status 2, no traceback). A resume with changed settings is
refused naming them (what a kill or a full disk leaves: test_interrupted_run_folders.py)."""

import copy
import os
import pickle
import shutil
from pathlib import Path

import pytest
import yaml
from PIL import Image

from lssat_framework import cli
from lssat_framework.files.lock import LOCK_FILE
from lssat_framework.spec import validate_spec
from lssat_framework.testing import TINY_SPEC
from lssat_framework.train import train


class Planted:
    """Unpickling this runs ``os.system``: what a hostile run folder would hold."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


@pytest.fixture(autouse=True)
def _in_a_scratch_folder(tmp_path, monkeypatch):
    """`lssat eval` writes its report into the working folder: never the repository's."""
    monkeypatch.chdir(tmp_path)


def small_spec(epochs=2):
    spec = copy.deepcopy(TINY_SPEC)
    spec["data"]["params"].update(train=16, val=8)
    spec["train"].update(epochs=epochs, recon_grid=False)
    return spec


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("shared") / "run"
    train(validate_spec(small_spec()), folder)
    return folder


def files_of(run):
    return sorted(p.relative_to(run) for p in run.rglob("*") if p.is_file() and "tensorboard" not in p.parts)


def plant(run, relative, marker):
    (run / relative).write_bytes(pickle.dumps(Planted(marker)))


def run_command(argv, capsys):
    """``lssat ARGV`` in this process: its status and stderr (an exception other than the CLI's
    one clear error escapes and fails the test, as a traceback would show)."""
    status = cli.main(argv)
    return status, capsys.readouterr().err


def test_the_checkpoint_holds_no_pickle(finished_run):
    names = [p.name for p in (finished_run / "checkpoints" / "last").iterdir()]
    assert "trainer_state.json" in names and "model.safetensors" in names and "optimizer_state.json" in names
    assert not [n for n in names if n.endswith((".pkl", ".bin", ".pt", ".pth"))]


def test_a_pickle_planted_in_any_file_of_a_run_folder_never_runs(finished_run, tmp_path, capsys):
    spec_path = tmp_path / "spec.yaml"
    spec_path.write_text(yaml.safe_dump(small_spec()))
    image = tmp_path / "face.png"
    Image.new("RGB", (40, 40), (120, 90, 60)).save(image)
    marker = tmp_path / "marker"
    outcomes = {}
    for relative in files_of(finished_run):
        run = tmp_path / "copy"
        shutil.rmtree(run, ignore_errors=True)
        shutil.copytree(finished_run, run)
        (run / "summary.json").unlink()  # unfinished: --resume reads its checkpoint
        if not (run / relative).exists():
            continue
        plant(run, relative, marker)
        for argv in (
            ["run", str(spec_path), "--out", str(run), "--resume"],
            ["eval", str(spec_path), "--checkpoint", str(run)],
            ["predict", str(image), "--checkpoint", str(run), "--out", str(tmp_path / "predictions.csv")],
        ):
            status, err = run_command(argv, capsys)
            assert not marker.exists(), f"{argv[0]} ran the pickle planted in {relative}"
            assert status in (0, 2) and "Traceback" not in err, (relative, argv[0], err)
            outcomes[(str(relative), argv[0])] = status
    refused = {key for key, status in outcomes.items() if status == 2}
    assert ("checkpoints/last/optimizer_state.json", "run") in refused
    assert ("checkpoints/best/model.safetensors", "eval") in refused


@pytest.mark.parametrize("name", ["custom_checkpoint_0.pkl", "random_states_0.pkl", "optimizer.bin"])
def test_a_checkpoint_in_accelerates_pickled_format_is_refused_with_a_message(finished_run, tmp_path, name, capsys):
    run = tmp_path / "old"
    shutil.copytree(finished_run, run)
    (run / "summary.json").unlink()
    marker = tmp_path / "marker"
    plant(run, f"checkpoints/last/{name}", marker)
    spec_path = tmp_path / "spec.yaml"
    spec_path.write_text(yaml.safe_dump(small_spec()))
    status, err = run_command(["run", str(spec_path), "--out", str(run), "--resume"], capsys)
    assert status == 2 and not marker.exists()
    assert name in err and "never read" in err and "docs/security.md" in err
    plant(run, f"checkpoints/best/{name}", marker)  # its weights are still evaluated: .safetensors only
    assert run_command(["eval", str(spec_path), "--checkpoint", str(run)], capsys)[0] == 0 and not marker.exists()


@pytest.mark.parametrize("name", [LOCK_FILE, "writer.json", "spec.yaml", "metrics.jsonl", "summary.json.tmp", "checkpoints/last", "model.safetensors"])
def test_a_symlink_in_a_run_folder_is_refused_and_its_target_kept(finished_run, tmp_path, name, capsys):
    run = tmp_path / "linked"
    shutil.copytree(finished_run, run)
    (run / "summary.json").unlink()
    victim = tmp_path / "victim"
    victim.mkdir() if name == "checkpoints/last" else victim.write_text("keep me")
    link = run / name
    if link.is_dir():
        shutil.rmtree(link)
    elif link.exists():
        link.unlink()
    link.symlink_to(victim)
    spec_path = tmp_path / "spec.yaml"
    spec_path.write_text(yaml.safe_dump(small_spec()))
    status, err = run_command(["run", str(spec_path), "--out", str(run), "--resume"], capsys)
    assert status == 2 and f"{link} is a symlink" in err
    assert victim.is_dir() if name == "checkpoints/last" else victim.read_text() == "keep me"


def test_a_users_pth_weights_file_is_read_without_running_its_pickle(tmp_path):
    """A .pth handed to `backbone.params.weights` is read with weights_only=True: a planted
    object is refused as unreadable, and a plain tensor file still loads."""
    import torch
    from test_timm_backbone import timm_state, tiny_vit

    from lssat_framework.errors import ComponentError

    marker = tmp_path / "marker"
    hostile = tmp_path / "hostile.pth"
    torch.save({"state_dict": Planted(marker)}, hostile)
    with pytest.raises(ComponentError, match="cannot read the weights file"):
        tiny_vit(weights=str(hostile))
    assert not marker.exists()
    plain = tmp_path / "plain.pth"
    torch.save(timm_state(num_classes=0), plain)
    assert tiny_vit(weights=str(plain)) is not None


# --- changed settings are never silent ------------------------------------------------------------


def test_a_resume_with_another_lr_or_length_is_refused_naming_each_key(finished_run, tmp_path, capsys):
    """`--resume` with another lr and epochs went on silently (old lr scale, new schedule length)."""
    run = tmp_path / "run"
    shutil.copytree(finished_run, run)
    (run / "summary.json").unlink()
    spec_path = tmp_path / "spec.yaml"
    spec_path.write_text(yaml.safe_dump(small_spec()))
    status, err = run_command(["run", str(spec_path), "--out", str(run), "--resume", "--set", "train.lr=0.5", "--set", "train.epochs=3"], capsys)
    assert status == 2 and "was started with another spec" in err
    assert "train.epochs: 2 -> 3" in err and "train.lr: " in err and "-> 0.5" in err
    status, _ = run_command(["run", str(spec_path), "--out", str(run), "--resume", "--set", "train.num_workers=0"], capsys)
    assert status == 0  # how a run is carried out may change


def test_a_resume_with_another_number_of_processes_is_refused(finished_run, tmp_path, capsys):
    """A run started with 2 processes and resumed with 1 took 5 steps where 4 were planned."""
    import json

    run = tmp_path / "run"
    shutil.copytree(finished_run, run)
    (run / "summary.json").unlink()
    state_file = run / "checkpoints" / "last" / "trainer_state.json"
    state_file.write_text(json.dumps({**json.loads(state_file.read_text()), "processes": 2}))
    spec_path = tmp_path / "spec.yaml"
    spec_path.write_text(yaml.safe_dump(small_spec()))
    status, err = run_command(["run", str(spec_path), "--out", str(run), "--resume"], capsys)
    assert status == 2 and "trained by 2 process(es), and this launch has 1" in err


def test_a_resume_after_a_plugin_upgrade_or_a_changed_default_is_refused(finished_run, tmp_path, capsys):
    """Plugin versions and changed defaults were never compared: the spec's text is the same."""
    import json

    spec_path = tmp_path / "spec.yaml"
    spec_path.write_text(yaml.safe_dump(small_spec()))
    for where, value in ((("backbone", "version"), "0.0.9"), (("data", "params", "fake_ratio"), 0.4)):
        run = tmp_path / "-".join(where)
        shutil.copytree(finished_run, run)
        (run / "summary.json").unlink()
        view = json.loads((run / "resolved.json").read_text())
        section, *keys = where
        target = view["components"][section]
        for key in keys[:-1]:
            target = target[key]
        target[keys[-1]] = value
        (run / "resolved.json").write_text(json.dumps(view))
        status, err = run_command(["run", str(spec_path), "--out", str(run), "--resume"], capsys)
        assert status == 2 and f"resolved: components.{'.'.join(where)}: {value!r} -> " in err, err


def test_a_pickle_planted_in_a_sweep_variant_never_runs_when_the_sweep_resumes_it(tmp_path, capsys):
    """A plain `lssat sweep` resumes unfinished variants by itself: the planted
    custom_checkpoint_0.pkl ran there too."""
    spec = small_spec()
    spec["sweep"] = {"seed": [0]}
    spec_path = tmp_path / "sweep.yaml"
    spec_path.write_text(yaml.safe_dump(spec))
    finished = tmp_path / "finished"
    assert cli.main(["sweep", str(spec_path), "--out", str(finished)]) == 0
    (variant,) = [p for p in finished.iterdir() if p.is_dir() and p.name.startswith("seed=")]
    marker = tmp_path / "marker"
    # the files of the sweep and of the variant's folder (the checkpoint's are the run's own: see above)
    read_by_the_sweep = [p.relative_to(finished) for p in finished.rglob("*") if p.is_file() and p.parent in (finished, variant)]
    # what the sweep writes from its variants (answers, leaderboards, plots, page) is planted all at
    # once: the sweep must finish (status 0), so it met every one of them and ran none
    written = [r for r in read_by_the_sweep if r.parent == Path(".") and r.name != "sweep.json"]
    assert {r.suffix for r in written} >= {".json", ".md", ".csv", ".png", ".html"}
    one_by_one = [[r] for r in read_by_the_sweep if r not in written]
    for planted in [written, *one_by_one, [variant.relative_to(finished) / "checkpoints" / "last" / "custom_checkpoint_0.pkl"]]:
        copy = tmp_path / "copy"
        shutil.rmtree(copy, ignore_errors=True)
        shutil.copytree(finished, copy)
        (copy / variant.name / "summary.json").unlink()
        for relative in planted:
            (copy / relative).write_bytes(pickle.dumps(Planted(marker)))
        status = cli.main(["sweep", str(spec_path), "--out", str(copy)])
        err = capsys.readouterr().err
        assert not marker.exists(), f"the sweep ran the pickle planted in {planted}"
        assert status in ((0,) if planted is written else (0, 2)) and "Traceback" not in err, (planted, err)
