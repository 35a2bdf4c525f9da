"""Reconstruction grids: what the SSL objective sees and what it predicts, as one PNG."""

from __future__ import annotations

from pathlib import Path

import torch


def save_reconstruction_grid(model, images: torch.Tensor, path: Path) -> bool:
    """Rows: input, masked input, then per reconstructed modality its target and its
    reconstruction (the predicted masked patches, pasted among the visible ones, as MAE shows it).
    Everything is shown in [0, 1] units: the objective predicts in the model's normalised space
    (``model.normalisers``), which is undone here."""
    from torchvision.utils import save_image

    objective = model.objective
    if not objective.modalities:
        return False
    with torch.no_grad(), torch.random.fork_rng(devices=[] if images.device.type == "cpu" else [images.device]):
        torch.manual_seed(0)
        model.eval()
        _, out = model(images)
        model.train()
    if out.mask is None or not out.predictions:
        return False
    inputs = model.modalities(images, list(dict.fromkeys(objective.modalities)))
    pixel_mask = model.backbone.pixel_mask(out.mask, images.shape[-2:])

    def shown(x):  # 3-channel picture of any modality: RGB as is, others by their first channel
        x = x.float().clamp(0, 1)
        return x if x.shape[1] == 3 else x[:, :1].expand(-1, 3, -1, -1)

    masked_name = objective.mask_modality or objective.modalities[0]
    picture = [shown(images), shown(inputs[masked_name]) * (1 - pixel_mask) + 0.5 * pixel_mask]
    for name, prediction in out.predictions.items():
        target = shown(inputs[name])  # reconstruction: predicted masked patches, visible ones as given
        predicted = shown(unnormalised(model, name, prediction))
        picture += [target, predicted * pixel_mask + target * (1 - pixel_mask)]
    path.parent.mkdir(parents=True, exist_ok=True)
    save_image(torch.cat(picture).cpu(), path, nrow=images.shape[0], padding=1)
    return True


def unnormalised(model, name: str, prediction: torch.Tensor) -> torch.Tensor:
    """A prediction of modality ``name`` back in [0, 1] units (as the model normalised it)."""
    normalisers = getattr(model, "normalisers", None)
    if normalisers is None or name not in normalisers:
        return prediction
    return normalisers[name].undo(prediction.float())
