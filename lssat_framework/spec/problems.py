"""A pydantic error in words: its dotted path (list items in brackets) and, for an unknown key,
the closest allowed key and the list of allowed ones."""

from __future__ import annotations

import difflib
import types
import typing
from typing import Any

from pydantic import BaseModel


def pydantic_problem(err: dict[str, Any], prefix: tuple[str, ...], model: type[BaseModel] | None) -> tuple[str, str]:
    loc = tuple(str(part) for part in err["loc"])
    path = ".".join(prefix)
    for part in err["loc"]:  # keys joined by dots, list items in brackets: evaluate[1].params
        path += f"[{part}]" if isinstance(part, int) else f".{part}" if path else str(part)
    message = err["msg"]
    if err["type"] == "extra_forbidden":
        allowed = _fields_at(model, loc[:-1])
        close = difflib.get_close_matches(loc[-1], allowed, n=1)
        message = f"unknown key '{loc[-1]}'"
        message += f"; did you mean '{close[0]}'?" if close else ""
        if allowed:
            message += f" Allowed keys: {', '.join(allowed)}."
    elif "input" in err and err["type"] != "missing" and not isinstance(err["input"], (dict, list)):
        message += f" (got {err['input']!r})"
    return path, message


def _fields_at(model: Any, loc: tuple[str, ...]) -> list[str]:
    """Field names of the pydantic model found by walking ``loc`` from ``model``."""
    current = model
    for part in loc:
        current = _unwrap(current)
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = current.model_fields.get(part)
            if field is None:
                return []
            current = field.annotation
        elif typing.get_origin(current) is dict:
            current = typing.get_args(current)[1]
        elif typing.get_origin(current) is list:  # the part is an item's index
            current = typing.get_args(current)[0]
        else:
            return []
    current = _unwrap(current)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return list(current.model_fields)
    return []


def _unwrap(annotation: Any) -> Any:
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if typing.get_origin(annotation) in (typing.Union, types.UnionType) and len(args) == 1:
        return args[0]
    return annotation
