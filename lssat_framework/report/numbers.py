"""Numbers as the page shows them, by column: metrics to 3 decimals, parameters in millions,
memory in MiB or GiB, rates to one decimal, counts whole. The raw value stays beside the shown
one (``data-value``), so sorting and a reader comparing with ``leaderboard.csv`` see the file's."""

from __future__ import annotations

from typing import Any, Callable

METRIC_COLUMNS = ("value", "low", "high", "chance", "best_value")
COUNT_COLUMNS = ("epoch", "samples", "videos", "count", "epochs")


def _number(raw: Any) -> float | None:
    try:
        value = float(raw)
    except (TypeError, ValueError):
        return None
    return value if value == value else None


def metric(raw: Any) -> str:
    value = _number(raw)
    return "" if value is None else f"{value:.3f}"


def parameters(raw: Any) -> str:
    value = _number(raw)
    return "" if value is None else f"{value:,.2f} M" if value >= 0.01 else f"{value * 1000:,.1f} k"


def memory(raw: Any) -> str:
    value = _number(raw)
    return "" if value is None else f"{value / 1024:,.2f} GiB" if value >= 1024 else f"{value:,.1f} MiB"


def rate(raw: Any) -> str:
    value = _number(raw)
    return "" if value is None else f"{value:,.1f}"


def seconds(raw: Any) -> str:
    value = _number(raw)
    return "" if value is None else f"{value:.3g} s"


def count(raw: Any) -> str:
    value = _number(raw)
    return "" if value is None else f"{value:,.0f}"


def formatter(column: str) -> Callable[[Any], str] | None:
    """How ``column`` of a leaderboard or a cross-dataset table is shown; None: as text."""
    if column in METRIC_COLUMNS or "@" in column and not column.startswith("error@"):
        return metric
    if column == "parameters_m":
        return parameters
    if column.startswith("peak_mem"):
        return memory
    if column in ("images_per_s", "step_time_s"):
        return rate if column == "images_per_s" else seconds
    if column in COUNT_COLUMNS:
        return count
    return None


def formats(columns: list[str], metrics: tuple[str, ...] = ()) -> dict[str, Callable[[Any], str]]:
    """The formatters of ``columns``; ``metrics``: other columns that hold a metric (a cross-dataset
    table's ``auc``, ``auc_low``)."""
    found = {c: formatter(c) for c in columns}
    found.update({c: metric for c in columns if c in metrics})
    return {c: f for c, f in found.items() if f is not None}
