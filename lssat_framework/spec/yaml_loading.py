"""Reading a spec file safely: no tags that build Python objects, no duplicate keys, no recursive
aliases, and aliases may add at most :data:`MAX_ALIAS_VALUES` values; each key's line is kept
so that an error can name it."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from ..errors import LssatError

#: how many values the aliases (``*name``) of one spec may add when expanded; a spec is a small
#: document, and a few nested aliases can otherwise stand for billions of values
MAX_ALIAS_VALUES = 10_000


class RefusedYAML(yaml.MarkedYAMLError):
    """Well-formed YAML that a spec may not use: a duplicate key, a recursive or exploding alias."""


class SpecLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that also reads ``1e-4`` as a float (YAML 1.1 wants ``1.0e-4``),
    refuses duplicate keys (YAML keeps the last silently) and bounds what aliases expand to."""

    def __init__(self, stream):
        super().__init__(stream)
        self._open_anchors: dict[str, yaml.Mark] = {}  # anchors whose value is being read
        self._alias_uses: list[tuple[yaml.Node, yaml.AliasEvent]] = []

    def compose_node(self, parent, index):
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            if event.anchor in self._open_anchors:
                anchor_line = self._open_anchors[event.anchor].line + 1
                raise RefusedYAML(
                    None, None,
                    f"alias *{event.anchor} is used inside the value it names (anchor &{event.anchor} at line {anchor_line}): "
                    "recursive aliases are refused",
                    event.start_mark,
                )
            node = super().compose_node(parent, index)
            self._alias_uses.append((node, event))
            return node
        if event.anchor is not None:
            self._open_anchors[event.anchor] = event.start_mark
        try:
            return super().compose_node(parent, index)
        finally:
            self._open_anchors.pop(event.anchor, None)

    def compose_document(self):
        node = super().compose_document()
        self._bound_alias_expansion(node)
        return node

    def _bound_alias_expansion(self, root: yaml.Node) -> None:
        sizes: dict[int, int] = {}  # values under a node once its aliases are expanded, by id

        def expanded(node: yaml.Node) -> int:
            if id(node) not in sizes:
                children = [n for pair in node.value for n in pair] if isinstance(node, yaml.MappingNode) else node.value
                sizes[id(node)] = 1 + (sum(expanded(child) for child in children) if isinstance(children, list) else 0)
            return sizes[id(node)]

        added = expanded(root) - len(sizes)  # sizes holds each written value once
        if added > MAX_ALIAS_VALUES:
            node, alias = max(self._alias_uses, key=lambda use: sizes[id(use[0])])
            raise RefusedYAML(
                None, None,
                f"alias *{alias.anchor} stands for {sizes[id(node)]:,} values and the spec's aliases add {added:,} in all; "
                f"aliases may add at most {MAX_ALIAS_VALUES:,} values to a spec (write the repeated part out, or alias less)",
                alias.start_mark,
            )

    def construct_mapping(self, node, deep=False):
        if isinstance(node, yaml.MappingNode):
            self._refuse_duplicate_keys(node)
        return super().construct_mapping(node, deep=deep)

    def _refuse_duplicate_keys(self, node: yaml.MappingNode) -> None:
        seen: dict[Any, yaml.Mark] = {}
        for key_node, _ in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == "tag:yaml.org,2002:merge":
                continue  # ``<<: *base`` may be overridden by the keys beside it
            key = self.construct_object(key_node)
            if key in seen:
                first = seen[key]
                where = f"line {first.line + 1}" + (f", column {first.column + 1}" if first.line == key_node.start_mark.line else "")
                raise RefusedYAML(
                    None, None,
                    f"duplicate key '{key}' (also at {where}): a key may appear once per mapping; merge the two into one",
                    key_node.start_mark,
                )
            seen[key] = key_node.start_mark


SpecLoader.yaml_implicit_resolvers = {key: list(value) for key, value in yaml.SafeLoader.yaml_implicit_resolvers.items()}
SpecLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789"),
)


def parse_yaml(text: str) -> Any:
    return yaml.load(text, Loader=SpecLoader)  # a SafeLoader: no Python objects


def _parse_with_lines(text: str) -> tuple[Any, dict[str, int]]:
    """The document and a path -> line map, from one pass of the loader."""
    loader = SpecLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, {}
        return loader.construct_document(node), _line_map(node)
    finally:
        loader.dispose()


def load_yaml(path: str | Path) -> tuple[dict[str, Any], dict[str, int]]:
    """Read a spec file with a safe YAML loader; return the mapping and a path -> line map."""
    path = Path(path)
    if not path.is_file():
        raise LssatError(f"spec file not found: {path}")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise LssatError(f"{path}: not UTF-8 text (byte {exc.object[exc.start]:#04x} at offset {exc.start}); a spec is plain YAML saved as UTF-8") from None
    try:
        data, lines = _parse_with_lines(text)
    except RecursionError:
        raise LssatError(f"{path}: the spec nests too deeply to read") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        problem = getattr(exc, "problem", None) or str(exc)
        if "python/" in str(exc):
            problem += " (specs are plain YAML: tags that build Python objects are refused)"
        raise LssatError(f"{where}: {'' if isinstance(exc, RefusedYAML) else 'invalid YAML: '}{problem}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise LssatError(f"{path}: the spec must be a mapping of sections, got {type(data).__name__}")
    return data, lines


def _line_map(node, prefix: str = "", out: dict[str, int] | None = None) -> dict[str, int]:
    out = {} if out is None else out
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            path = f"{prefix}.{key.value}" if prefix else str(key.value)
            out[path] = key.start_mark.line + 1
            _line_map(value, path, out)
    elif isinstance(node, yaml.SequenceNode):
        for i, value in enumerate(node.value):
            path = f"{prefix}.{i}"
            out[path] = value.start_mark.line + 1
            _line_map(value, path, out)
    return out

