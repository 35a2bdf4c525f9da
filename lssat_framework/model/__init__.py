"""The L-SSAT model and what building it checks: one shared backbone, a task head and an SSL
objective (:mod:`.lssat_model`), whether the parts of a spec fit together (:mod:`.compat`), and the
layer groups of layer-wise lr decay (:mod:`.layer_groups`).

It may import the spec (``..spec``), the plugin registry and the plugin API; never training,
sweeps or the CLI.
"""

from .lssat_model import LSSATModel, build, count_parameters

__all__ = ["LSSATModel", "build", "count_parameters"]
