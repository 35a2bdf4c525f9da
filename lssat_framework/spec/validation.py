"""Stage 2 of validation: each component section's ``name`` resolved in the registry and its
``params`` validated against the params model its plugin registered; then the modalities the SSL
objective and the task head read; then each test set of ``evaluate:``. Every problem is reported
at once, with its dotted path and, where the file is known, its line."""

from __future__ import annotations

import difflib
import re
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ..errors import AmbiguousComponentError, LssatError, SpecError, UnknownComponentError
from ..plugins.components import Component
from ..declared import objective_modalities
from ..plugins.manager import PluginManager, get_plugin_manager
from .overrides import apply_overrides
from .problems import pydantic_problem
from .resolved import COMPONENT_SECTIONS, MODALITY_NAME, MODALITY_NAME_RULE, ResolvedComponent, ResolvedSpec
from .schema import Spec
from .shipped import find_spec
from .yaml_loading import load_yaml


def load_spec(spec: str | Path, overrides: list[str] | None = None, manager: PluginManager | None = None) -> ResolvedSpec:
    """``spec``: a YAML file, or the name of a shipped spec where no such file exists."""
    data, lines = load_yaml(find_spec(spec))
    data = apply_overrides(data, overrides or [])
    return validate_spec(data, source=str(spec), lines=lines, manager=manager)


def validate_spec(
    data: dict[str, Any],
    source: str | None = None,
    lines: dict[str, int] | None = None,
    manager: PluginManager | None = None,
) -> ResolvedSpec:
    """Validate ``data`` in two stages; raise :class:`SpecError` listing every problem."""
    manager = manager or get_plugin_manager()
    problems: list[tuple[str, str]] = []
    spec: Spec | None = None
    try:
        spec = Spec.model_validate(data)
    except ValidationError as exc:
        problems += [pydantic_problem(err, (), Spec) for err in exc.errors()]
    components = _resolve_sections(data, manager, problems)
    modalities = _resolve_modalities(data, components, manager, problems)
    problems += _test_set_problems(data, manager)
    if problems:
        raise SpecError([(_with_line(path, lines or {}), msg) for path, msg in problems], source=source)
    assert spec is not None
    return ResolvedSpec(spec=spec, raw=data, components=components, modalities=modalities, source=source)


def _descriptor_sections(data: dict[str, Any]) -> dict[str, Any]:
    return data.get("descriptors") if isinstance(data.get("descriptors"), dict) else {}


def _resolve_sections(data: dict[str, Any], manager: PluginManager, problems: list[tuple[str, str]]) -> dict[str, ResolvedComponent]:
    """Each component section (``data``, ``task``, ``backbone``, ``ssl``, ``descriptors.*``)
    resolved in the registry, its params validated; what fails is added to ``problems``."""
    components: dict[str, ResolvedComponent] = {}
    sections = dict(COMPONENT_SECTIONS)
    for modality in _descriptor_sections(data):
        if isinstance(modality, str) and not MODALITY_NAME.fullmatch(modality):
            fixed = re.sub(r"[^A-Za-z0-9_-]+", "_", modality)
            problems.append((f"descriptors.{modality}", f"modality name '{modality}': {MODALITY_NAME_RULE}; rename it, e.g. '{fixed}'"))
            continue
        sections[f"descriptors.{modality}"] = "descriptor"
    for path, kind in sections.items():
        section = _lookup(data, path)
        if not isinstance(section, dict) or not isinstance(section.get("name"), str):
            continue  # stage 1 reported it
        try:
            component = manager.get(kind, section["name"])
        except (UnknownComponentError, AmbiguousComponentError) as exc:
            problems.append((f"{path}.name", str(exc)))
            continue
        params = section.get("params") or {}
        if not isinstance(params, dict):
            continue
        try:
            components[path] = ResolvedComponent(component, component.validate(params))
        except ValidationError as exc:
            problems += [pydantic_problem(err, (*path.split("."), "params"), component.params_model) for err in exc.errors()]
        except TypeError as exc:
            problems.append((f"{path}.params", str(exc)))
    return components


def _resolve_modalities(data: dict[str, Any], components: dict[str, ResolvedComponent], manager: PluginManager,
                        problems: list[tuple[str, str]]) -> dict[str, ResolvedComponent]:
    """Every modality the run reads: those declared under ``descriptors`` and those the SSL
    objective and the task head name, a registered descriptor's name standing for itself.
    Checked whenever the sections that name them resolved, so their errors come with the others."""
    declared = {name for name in _descriptor_sections(data) if isinstance(name, str)}
    modalities = {name: components[f"descriptors.{name}"] for name in declared if f"descriptors.{name}" in components}
    wanted: list[tuple[str, str]] = []
    if "ssl" in components:
        try:
            wanted += [("ssl.params", m) for m in objective_modalities(components["ssl"])]
        except LssatError as exc:
            problems.append(("ssl.params", str(exc)))
    if isinstance(data.get("classify"), str):
        wanted.append(("classify", data["classify"]))
    for path, name in wanted:
        if name in modalities or name in declared:
            continue
        try:
            component = manager.get("descriptor", name)
            modalities[name] = ResolvedComponent(component, component.validate({}))
        except AmbiguousComponentError as exc:  # two plugins register the name: say so, as for a section's name
            problems.append((path, f"modality '{name}': {exc}, e.g. descriptors: {{{name}: {{name: <plugin>/{name}}}}}"))
        except (UnknownComponentError, ValidationError, TypeError):
            known = sorted(declared | set(manager.list("descriptor")))
            close = difflib.get_close_matches(name, known, n=1)
            hint = f" Did you mean '{close[0]}'?" if close else ""
            problems.append((path, f"modality '{name}' is neither declared under `descriptors` nor a registered descriptor.{hint}"))
    return modalities


def cross_dataset_params(component: Component, params: dict[str, Any], run_data: Any) -> dict[str, Any]:
    """A test set's dataset params: the run's ``data`` params that the dataset also takes, except
    those it requires (where its data is), under the test set's own ``params``."""
    fields = component.params_model.model_fields if component.params_model is not None else {}
    run_params = run_data.get("params") if isinstance(run_data, dict) else None
    carried = {key: value for key, value in (run_params or {}).items() if key in fields and not fields[key].is_required()}
    return {**carried, **params}


def _test_set_problems(data: dict[str, Any], manager: PluginManager) -> list[tuple[str, str]]:
    """Stage 2 of ``evaluate:``: each test set's dataset resolved and its params (with the run's
    data params carried over) validated, as the ``data`` section is."""
    problems: list[tuple[str, str]] = []
    items = data.get("evaluate")
    for index, item in enumerate(items if isinstance(items, list) else []):
        params = (item.get("params") or {}) if isinstance(item, dict) else None
        if not isinstance(params, dict) or not isinstance(item.get("name"), str):
            continue  # stage 1 reported it
        path = f"evaluate[{index}]"
        try:
            component = manager.get("dataset", item["name"])
            component.validate(cross_dataset_params(component, params, data.get("data")))
        except (UnknownComponentError, AmbiguousComponentError) as exc:
            problems.append((f"{path}.name", str(exc)))
        except ValidationError as exc:
            problems += [pydantic_problem(err, (path, "params"), component.params_model) for err in exc.errors()]
        except TypeError as exc:
            problems.append((f"{path}.params", str(exc)))
    return problems


def _lookup(data: Any, dotted: str) -> Any:
    for key in dotted.split("."):
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def _with_line(path: str, lines: dict[str, int]) -> str:
    parts = re.sub(r"\[(\d+)\]", r".\1", path).split(".")  # the line map keys list items as a.1
    for end in range(len(parts), 0, -1):  # the deepest key that exists in the file
        line = lines.get(".".join(parts[:end]))
        if line is not None:
            return f"{path} (line {line})"
    return path

