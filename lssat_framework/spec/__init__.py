"""The experiment spec: YAML in, a validated :class:`ResolvedSpec` out.

Validation runs in two stages and reports every problem at once, each with its dotted path and,
where the YAML file is known, its line:

1. the outer schema (:mod:`.schema`, :mod:`.launcher`; ``extra="forbid"``);
2. each component section (``data``, ``task``, ``backbone``, ``ssl``, ``descriptors.*``) resolved
   in the plugin registry and its ``params`` validated against the params model its plugin
   registered; then the modalities the SSL objective and the task head read; then each test set
   of ``evaluate:`` (:mod:`.validation`).

The room holds the schema, reading YAML safely (:mod:`.yaml_loading`), ``--set`` overrides
(:mod:`.overrides`), the two stages, what changed between two specs (:mod:`.changes`), the
generated reference (:mod:`.reference`) and the example specs that ship in the package, found by
name (:mod:`.shipped`). It may import the plugin registry (``..plugins``),
``..files`` and ``..errors``; never the model, training, sweeps or the CLI. What only building
the parts can tell (image size against the patch grid, channels, ...) is checked in
:mod:`lssat_framework.model.compat`.
"""

from .launcher import LauncherSpec
from .overrides import apply_overrides
from .resolved import ResolvedComponent, ResolvedSpec
from .schema import ComponentSpec, EvaluateSpec, Spec, TrainSpec
from .validation import load_spec, validate_spec
from .yaml_loading import MAX_ALIAS_VALUES, load_yaml

__all__ = ["ComponentSpec", "EvaluateSpec", "LauncherSpec", "MAX_ALIAS_VALUES", "ResolvedComponent", "ResolvedSpec", "Spec",
           "TrainSpec", "apply_overrides", "load_spec", "load_yaml", "validate_spec"]
