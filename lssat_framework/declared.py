"""What a component says of itself in its params model, read without building it.

Validating a spec and ``lssat sweep --status`` need two facts that otherwise come from a built
component, and with it the import of torch: the modalities an SSL objective reads and the metric
that ranks a task's runs. A params model may declare them:

- an SSL objective's model: ``modalities``, a property giving the modality names it reads;
- a task's model: ``headline``, a ``ClassVar[str]`` naming the metric (its direction is
  :func:`higher_is_better`'s convention).

A component whose model declares neither is built, as before.
"""

from __future__ import annotations

from typing import Any


def objective_modalities(objective: Any) -> list[str]:
    """The modalities the SSL objective of a :class:`~lssat_framework.spec.ResolvedComponent` reads."""
    model = objective.component.params_model
    if model is not None and isinstance(getattr(model, "modalities", None), property):
        return list(model.model_validate(objective.params).modalities)
    return list(getattr(objective.build(), "modalities", []))


def task_headline(task: Any) -> tuple[str, bool]:
    """A task's headline metric and whether higher is better, from a
    :class:`~lssat_framework.spec.ResolvedComponent`."""
    declared = getattr(task.component.params_model, "headline", None)
    if isinstance(declared, str):
        return declared, higher_is_better(declared)
    built = task.build()
    return built.headline, built.higher_is_better(built.headline)


def higher_is_better(metric: str) -> bool:
    """The direction of a metric, for the best checkpoint and leaderboards. By convention, error
    rates (``eer``), fairness gaps (``*_gap@...``) and losses are better lower."""
    base = metric.removeprefix("val_").removeprefix("train_").split("@")[0]
    return not (base in ("eer", "error", "count") or base.endswith("_gap") or base.startswith("loss"))
