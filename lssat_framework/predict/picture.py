"""A video's picture: its score frame by frame over time, with the interval of the video's score
and the threshold, above a strip of its face crops with their scores (what a person looks at
first). ``FIGURE_SIZE`` inches at ``DPI``: 1000×560 pixels."""

from __future__ import annotations

import io

from ..images import pyplot, save_figure
from .answers import Answer

FIGURE_SIZE, DPI = (10, 5.6), 100


def video_picture(answer: Answer, title: str, threshold: float | None, positive_name: str | None) -> bytes:
    """The PNG's bytes."""
    figure = pyplot().figure(figsize=FIGURE_SIZE, dpi=DPI)
    grid = figure.add_gridspec(2, max(1, len(answer.strip)), height_ratios=[3, 1.4], hspace=0.45)
    curve = figure.add_subplot(grid[0, :])
    times = [t for t, _ in answer.curve]
    if positive_name is not None:
        curve.plot(times, [s for _, s in answer.curve], marker="o", label=f"frame score (p {positive_name})")
        if "low" in answer.summary:
            curve.axhspan(answer.summary["low"], answer.summary["high"], alpha=0.2, label="video score, 95 % interval")
        if threshold is not None:
            curve.axhline(threshold, color="black", linestyle="--", linewidth=1, label=f"threshold {threshold:g}")
        curve.set_ylim(0, 1)
        curve.set_title(f"{title}: {answer.summary.get('verdict', answer.status)}", fontsize=10)
    else:
        for column, values in enumerate(zip(*[s for _, s in answer.curve])):
            if column < 8:
                curve.plot(times, values, marker=".", label=f"score {column}")
        curve.set_title(f"{title}: {answer.status}", fontsize=10)
    curve.set_xlabel("time (s)" if answer.kind == "video" else "frame")
    curve.legend(fontsize=8, loc="upper right")
    for position, (image, score) in enumerate(answer.strip):
        axes = figure.add_subplot(grid[1, position])
        axes.imshow(image)
        axes.set_axis_off()
        axes.set_title(f"{score:.2f}" if isinstance(score, float) else "", fontsize=8)
    data = io.BytesIO()
    save_figure(figure, data, format="png", dpi=DPI)
    return data.getvalue()
