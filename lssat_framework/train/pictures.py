"""Reconstruction grids: what the SSL objective sees and what it predicts, as one PNG with a title
on every row (input, masked input, then each reconstructed modality's target and reconstruction)
and every column (the sample's label, e.g. real or fake).

The pictures sit at the top left exactly as ``torchvision.utils.save_image`` lays them out (one
pixel of padding, one sample a column), so a cell is found at the same place as in a plain grid;
the row titles are written to the right of the rows and the column titles below them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

#: how many validation samples a grid shows
GRID_SAMPLES = 8
PADDING = 1


@dataclass
class GridSamples:
    """The validation images a run's grids show, in [0, 1], and each one's title (its label)."""

    images: torch.Tensor
    titles: list[str]


def grid_samples(val_set, label: str, names: list[str], device: torch.device) -> GridSamples:
    """The first :data:`GRID_SAMPLES` of ``val_set``, titled by their ``label`` where it is one
    class (``names[class]``: real, fake; happy, sad); other labels (several attributes) leave the
    columns untitled."""
    from ..images import as_unit_float

    samples = [val_set[i] for i in range(min(GRID_SAMPLES, len(val_set)))]
    titles = []
    for sample in samples:
        value = torch.as_tensor(sample.get("labels", {}).get(label, -1))
        titles.append(names[int(value)] if value.numel() == 1 and 0 <= int(value) < len(names) else "")
    return GridSamples(as_unit_float(torch.stack([s["image"] for s in samples])).to(device), titles)


def reconstruction_rows(model, images: torch.Tensor) -> list[tuple[str, torch.Tensor]] | None:
    """The grid's rows, each with its title: input, masked input, then per reconstructed modality
    its target and its reconstruction (the predicted masked patches, pasted among the visible ones,
    as MAE shows it). Everything in [0, 1] units: the objective predicts in the model's normalised
    space (``model.normalisers``), which is undone here. None where nothing is reconstructed."""
    objective = model.objective
    if not objective.modalities:
        return None
    with torch.no_grad(), torch.random.fork_rng(devices=[] if images.device.type == "cpu" else [images.device]):
        torch.manual_seed(0)
        model.eval()
        _, out = model(images)
        model.train()
    if out.mask is None or not out.predictions:
        return None
    inputs = model.modalities(images, list(dict.fromkeys(objective.modalities)))
    pixel_mask = model.backbone.pixel_mask(out.mask, images.shape[-2:])

    def shown(x):  # 3-channel picture of any modality: RGB as is, others by their first channel
        x = x.float().clamp(0, 1)
        return x if x.shape[1] == 3 else x[:, :1].expand(-1, 3, -1, -1)

    masked_name = objective.mask_modality or objective.modalities[0]
    rows = [("input", shown(images)), (f"masked input ({masked_name})", shown(inputs[masked_name]) * (1 - pixel_mask) + 0.5 * pixel_mask)]
    for name, prediction in out.predictions.items():
        target = shown(inputs[name])  # reconstruction: predicted masked patches, visible ones as given
        predicted = shown(unnormalised(model, name, prediction))
        rows += [(f"target ({name})", target), (f"reconstruction ({name})", predicted * pixel_mask + target * (1 - pixel_mask))]
    return rows


def save_reconstruction_grid(model, images: torch.Tensor, path: Path, titles: list[str] | None = None) -> bool:
    """Draw :func:`reconstruction_rows` of ``images`` into ``path`` with the rows' titles and the
    columns' ``titles``; False where the objective reconstructs nothing."""
    from torchvision.utils import make_grid

    rows = reconstruction_rows(model, images)
    if rows is None:
        return False
    grid = make_grid(torch.cat([picture for _, picture in rows]).cpu(), nrow=images.shape[0], padding=PADDING)
    pixels = grid.mul(255).add_(0.5).clamp_(0, 255).permute(1, 2, 0).to(torch.uint8).numpy()  # as save_image rounds
    path.parent.mkdir(parents=True, exist_ok=True)
    titled(pixels, [title for title, _ in rows], titles or [], images.shape[-1]).save(path)
    return True


def titled(pixels, row_titles: list[str], column_titles: list[str], size: int):
    """The grid ``pixels`` on a white canvas, its rows' titles to the right and its columns' below."""
    from PIL import Image, ImageDraw, ImageFont

    try:
        font = ImageFont.load_default(size=11)
    except TypeError:  # Pillow before 10.1: the fixed bitmap font
        font = ImageFont.load_default()
    draw = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    step = size + PADDING
    width = max(draw.textlength(t, font=font) for t in row_titles) + 12
    longest = max([draw.textlength(t, font=font) for t in column_titles] or [0])
    upright = longest > step - 2  # a title wider than its column is written downwards, never into the next
    height = 0 if not longest else (longest + 10 if upright else 18)
    grid = Image.fromarray(pixels)
    canvas = Image.new("RGB", (grid.width + int(width), grid.height + int(height)), "white")
    canvas.paste(grid, (0, 0))
    draw = ImageDraw.Draw(canvas)
    for row, title in enumerate(row_titles):
        draw.text((grid.width + 6, PADDING + row * step + size / 2), title, fill="black", font=font, anchor="lm")
    for column, title in enumerate(column_titles):
        centre = PADDING + column * step + size / 2
        if title and not upright:
            draw.text((centre, grid.height + 9), title, fill="black", font=font, anchor="mm")
        elif title:
            label = Image.new("RGB", (int(draw.textlength(title, font=font)) + 2, 14), "white")
            ImageDraw.Draw(label).text((1, 7), title, fill="black", font=font, anchor="lm")
            canvas.paste(label.rotate(90, expand=True), (int(centre) - 7, grid.height + 4))
    return canvas


def unnormalised(model, name: str, prediction: torch.Tensor) -> torch.Tensor:
    """A prediction of modality ``name`` back in [0, 1] units (as the model normalised it)."""
    normalisers = getattr(model, "normalisers", None)
    if normalisers is None or name not in normalisers:
        return prediction
    return normalisers[name].undo(prediction.float())
