"""``lssat predict RUN INPUT...``: every input answered, bad ones with their status, a progress
bar over inputs and frames, the outputs written at the end, and the exit status: 0 when every
input was scored, 1 when some were not (the last line says which)."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import LssatError
from ..interfaces import FaceReader
from .answers import Answer, answer_file
from .inputs import list_inputs, shown
from .loaded import LoadedRun, load_run, say_settings
from .outputs import as_json, picture_names, write_outputs
from .picture import video_picture

EXIT_SOME_NOT_SCORED = 1


@dataclass
class PredictOptions:
    run: str
    inputs: list[str]
    out: Path
    #: preparation settings given on the command line (None: the run's)
    overrides: dict[str, Any] = field(default_factory=dict)
    threshold: float | None = None
    all_faces: bool = False
    json: bool = False
    reader: str | None = None


def find_reader(name: str | None, manager=None) -> FaceReader:
    """The face reader ``--reader`` names, or the only one installed."""
    from ..plugins import get_plugin_manager

    manager = manager or get_plugin_manager()
    if name is None:
        installed = manager.list("face_reader")
        if len(installed) != 1:
            raise LssatError(f"predict: {'no face reader is installed (the builtin lssat_datasets plugin ships one)' if not installed else 'several face readers are installed: ' + ', '.join(installed)}; "
                             "name one with --reader")
        name = installed[0]
    return manager.get("face_reader", name).build()


def answer_all(run: LoadedRun, reader: FaceReader, files: list[Path], settings: dict[str, Any], threshold: float, all_faces: bool) -> list[Answer]:
    """Every file's answers, with a bar over the inputs and one over the current file's frames."""
    from tqdm.auto import tqdm

    answers: list[Answer] = []
    with tqdm(total=len(files), desc="inputs", unit="file", dynamic_ncols=True) as inputs, \
            tqdm(desc="frames", unit="frame", dynamic_ncols=True, leave=False) as frames:
        for path in files:
            inputs.set_postfix_str(shown(path.name)[-40:], refresh=False)
            answers += answer_file(run, reader, path, settings, threshold, all_faces, on_frame=lambda: frames.update(1))
            inputs.update(1)
    return answers


def last_line(files: list[Path], answers: list[Answer], out: Path) -> tuple[str, bool]:
    """What the job says last, and whether every input was scored."""
    scored = {a.path for a in answers if a.status == "scored"}
    missed = {a.path: a.status.split(":")[0] for a in answers if a.path not in scored}
    line = f"{len(scored)} of {len(files)} inputs scored: {out}"
    if missed:
        counts: dict[str, int] = {}
        for status in missed.values():
            counts[status] = counts.get(status, 0) + 1
        line += f"; {len(missed)} not scored ({', '.join(f'{n} {s}' for s, n in counts.items())}: see {out / 'predictions.csv'})"
    return line, not missed


def predict_files(options: PredictOptions) -> int:
    """Answer every input with the run's model; the exit status."""
    run = load_run(options.run)
    reader = find_reader(options.reader)
    settings = reader.settings(run.info.preparation, options.overrides)
    say_settings(run, settings)
    threshold, source = run.threshold(options.threshold)
    files = list_inputs(options.inputs, set(reader.suffixes), options.out)
    answers = answer_all(run, reader, files, settings, threshold, options.all_faces)
    columns = run.task.prediction_columns()
    names = run.class_names
    pictures = {
        name: video_picture(answers[position], shown(answers[position].path.name), threshold if names else None, names[1] if names else None)
        for position, name in picture_names(answers).items()
    }
    write_outputs(options.out, answers, columns, pictures)
    if options.json:
        about = {"run": str(run.weights.run_dir), "weights": run.weights.description, "settings": settings,
                 "threshold": threshold, "threshold_from": source}
        print(as_json(answers, columns, about))
    line, complete = last_line(files, answers, options.out)
    print(line, file=sys.stderr if options.json else sys.stdout)
    return 0 if complete else EXIT_SOME_NOT_SCORED
