"""The sweep's two plots: each task's backbones (cells over the task's equal ground, with their
paired 95 % intervals and a dashed chance line) and every finished variant against its size."""

from __future__ import annotations

from pathlib import Path

from .records import Cell, Comparison, Run


def _plain_log_axis(axis) -> None:
    """Tick labels such as 5, 10, 20 instead of 5×10^0 … 10^1."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    axis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    axis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    axis.set_minor_formatter(NullFormatter())


def _error(cell: Cell) -> tuple[float, float]:
    if cell.low is None:
        return 0.0, 0.0
    return max(0.0, cell.value - cell.low), max(0.0, cell.high - cell.value)


def plot_per_backbone(comparisons: list[Comparison], path: Path) -> None:
    """One panel per task: each backbone's cell (⚠ after a name: too few samples evaluated)."""
    from ..images import pyplot

    plt = pyplot()
    backbones = sorted({b for c in comparisons for b in c.cells})
    panels = max(1, len(comparisons))
    fig, axes = plt.subplots(1, panels, figsize=(1.5 + 1.2 * max(1, len(backbones)) * panels, 3.5), squeeze=False)
    for ax, comparison in zip(axes[0], comparisons):
        cells = comparison.cells
        shown = [b for b in backbones if b in cells]
        errors = [_error(cells[b]) for b in shown]
        ax.bar(range(len(shown)), [cells[b].value for b in shown], color="tab:blue",
               yerr=[[e[0] for e in errors], [e[1] for e in errors]], capsize=4)
        chance = next((cells[b].chance for b in shown if cells[b].chance is not None), None)
        if chance is not None:
            ax.axhline(chance, color="gray", linestyle="--", linewidth=1, label=f"chance {chance:.2f}")
            ax.legend(fontsize=7)
        names = [b + (" ⚠" if cells[b].warning() else "") for b in shown]
        ax.set_xticks(range(len(shown)), names, rotation=30, ha="right", fontsize=8)
        ax.set_title(comparison.task if shown else f"{comparison.task}: no common ground", fontsize=9)
        if shown:
            ax.set_ylabel(cells[shown[0]].weights(), fontsize=7)
    if not comparisons:
        axes[0][0].set_title("(no results)", fontsize=9)
    fig.tight_layout()
    _save(fig, path)


def plot_vs_parameters(runs: list[Run], path: Path) -> None:
    from ..images import pyplot

    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5, 3.5))
    runs = [r for r in runs if r.done]
    for index, task in enumerate(sorted({r.task for r in runs})):
        points = [r for r in runs if r.task == task and r.parameters_m]
        if not points:
            continue
        color = f"C{index % 10}"
        errors = [[max(0.0, r.value - r.low) if r.low is not None else 0.0 for r in points],
                  [max(0.0, r.high - r.value) if r.high is not None else 0.0 for r in points]]
        ax.errorbar([r.parameters_m for r in points], [r.value for r in points], yerr=errors, fmt="o", color=color, capsize=3, label=task)
        chance = next((r.chance for r in points if r.chance is not None), None)
        if chance is not None:
            ax.axhline(chance, color=color, linestyle="--", linewidth=1)
    if any(r.parameters_m for r in runs):
        ax.set_xscale("log")
        _plain_log_axis(ax.xaxis)
        ax.legend(fontsize=7)
    ax.set_xlabel("parameters (millions)")
    ax.set_ylabel("headline metric (dashed: chance)")
    fig.tight_layout()
    _save(fig, path)


def _save(fig, path: Path) -> None:
    import io

    from ..images import pyplot
    from .state import write_atomic

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    pyplot().close(fig)
    write_atomic(path, buffer.getvalue())
