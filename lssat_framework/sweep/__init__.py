"""Sweeps: the grid of runs above single runs (a run knows nothing of sweeps).

``grid``       the cartesian product of the ``sweep:`` axes, every variant validated and named
``launch``     :func:`run_sweep`: stale results refused, checks before the queue, a launcher
``worker``     one variant inside its job (distributed set-up, requeue on USR2, failure marked)
``state``      each variant's own files and what they say (pending ... failed)
``collect``    leaderboard, plots and answers rebuilt from the variants' files
``answers``    the study's three questions in words, from ``compare`` (equal ground per task),
               ``intervals`` and ``paired`` (the paired hierarchical bootstrap), ``scoring``
               (each run's saved predictions scored again), ``axes`` (what each axis varies),
               ``reported`` (which weights and split a figure comes from) and ``plots``;
               ``answers_data`` the comparisons as data (``answers.json``, which the report draws)
``preflight``  data and output checks before anything is launched
"""

from .collect import collect, statuses
from .grid import Variant, axis_kind, expand
from .launch import run_sweep

__all__ = ["Variant", "axis_kind", "collect", "expand", "run_sweep", "statuses"]
