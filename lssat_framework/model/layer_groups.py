"""Layer groups for layer-wise lr decay, in timm's ``group_matcher`` format, over names that sit
one level deeper than the module that defines them (a timm model inside a backbone, a backbone
inside the L-SSAT model).

timm numbers a model's layers from its ``group_matcher()``: a dict of regular expressions (or a
function of a parameter's name); a parameter that none matches belongs to the top layer, with the
classifier. Prefixing the expressions, rather than renumbering the inner module's layers, keeps
that rule whole: the backbone's unmatched tensors (``fc_norm``, ConvNeXt's ``head.norm``) share
the top layer with the task head, exactly as they share it with timm's classifier.
"""

from __future__ import annotations

import math
import re
from typing import Any, Callable

GroupMatcher = dict[str, Any] | Callable[[str], Any]


def _prefixed(pattern: str, prefix: str) -> str:
    return f"^{re.escape(prefix)}(?:{pattern.removeprefix('^')})"


def prefix_group_matcher(matcher: GroupMatcher, prefix: str) -> GroupMatcher:
    """``matcher`` for the same parameters named ``prefix + name``; other names match nothing."""
    if callable(matcher):
        return lambda name: matcher(name[len(prefix):]) if name.startswith(prefix) else (math.inf,)
    prefixed = {}
    for group, spec in matcher.items():
        if spec is None or isinstance(spec, str):
            prefixed[group] = spec if spec is None else _prefixed(spec, prefix)
        else:
            prefixed[group] = [(_prefixed(pattern, prefix), suffix) for pattern, suffix in spec]
    return prefixed


def with_stem_pattern(matcher: GroupMatcher, pattern: str) -> GroupMatcher:
    """``matcher`` with ``pattern`` (names of parameters that enter with the input, e.g. a mask
    token) in its first group, the stem."""
    if callable(matcher):
        return lambda name: (0,) if re.match(pattern, name) else matcher(name)
    (first, spec), *rest = matcher.items()
    if spec is None or isinstance(spec, str):
        spec = f"{spec}|{pattern}" if spec else pattern
    else:
        spec = [*spec, (pattern, None)]
    return {first: spec, **dict(rest)}
