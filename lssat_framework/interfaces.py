"""What the core expects of each kind of component.

The core never names a concrete component: it only calls the methods below. A plugin's factory
returns an object that subclasses (or quacks like) one of these classes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from .declared import higher_is_better

#: ImageNet's mean and std per RGB channel of images in [0, 1] (timm's IMAGENET_DEFAULT_MEAN/STD):
#: the input normalisation of a backbone that does not say otherwise
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class Descriptor(nn.Module):
    """A parameter-free map from RGB ``B×3×H×W`` in [0, 1] to a modality ``B×C×H×W`` in [0, 1].

    Subclasses set ``channels`` (C) and implement ``forward``.
    """

    channels: int = 1

    def check_image_size(self, image_size: tuple[int, int]) -> None:
        """Raise ``ValueError`` (the message says the fix) when this descriptor cannot encode
        images of ``image_size`` (H, W), e.g. a HOG cell that does not divide it. Called at
        validation, before any data is read."""

class Backbone(nn.Module):
    """A feature extractor shared by the task path and the masked (SSL) path.

    Attributes: ``num_features`` (D), ``in_chans``, ``patch_size`` (side in pixels of one
    masking patch: the ViT patch or the CNN's output stride). Optional: ``image_size`` (H, W)
    when the backbone only takes one size (a ViT's position table).
    """

    num_features: int
    in_chans: int
    patch_size: int

    def grid_size(self, image_size: tuple[int, int]) -> tuple[int, int]:
        """Patch grid (rows, cols) for an input of ``image_size`` (H, W)."""
        h, w = image_size
        if h % self.patch_size or w % self.patch_size:
            raise ValueError(f"image size {h}x{w} is not a multiple of the patch size {self.patch_size}")
        return h // self.patch_size, w // self.patch_size

    def pixel_mask(self, mask: torch.Tensor, image_size: tuple[int, int]) -> torch.Tensor:
        """The patch mask ``B×N`` spread over the pixels: float ``B×1×H×W``, 1 where hidden."""
        rows, cols = self.grid_size(tuple(image_size))
        grid = mask.view(-1, 1, rows, cols).float()
        return grid.repeat_interleave(self.patch_size, 2).repeat_interleave(self.patch_size, 3)

    def export_state_dict(self) -> dict[str, torch.Tensor]:
        """Weights written to ``backbone.safetensors`` at the end of a run."""
        return self.state_dict()

    def forward_pooled(self, x: torch.Tensor) -> torch.Tensor:
        """Pooled features ``B×D`` of the whole image (the task path)."""
        raise NotImplementedError

    def forward_masked(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Token features ``B×N×D`` on the patch grid for an input whose patches with
        ``mask == True`` (``mask``: ``B×N`` bool, row-major grid) are hidden from the encoder.

        Values at masked positions are unspecified: objectives replace them by mask tokens.
        """
        raise NotImplementedError

    def forward_masked_tokens(self, x: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Optional: :meth:`forward_masked` with the encoder's prefix tokens (class, register
        tokens) as they leave the encoder: ``(B×P×D, B×N×D)``. The MAE decoder carries them, as
        MAE's decoder carries its class token. The default has no prefix (P = 0)."""
        tokens = self.forward_masked(x, mask)
        return tokens[:, :0], tokens

    def image_normalisation(self) -> dict[str, tuple[float, ...]]:
        """Optional: ``{"mean": (r, g, b), "std": (r, g, b)}``, what the backbone's weights expect
        of an RGB image in [0, 1]. The model feeds it ``(x - mean) / std`` (descriptor maps by
        the rule of docs/method.md). The default is ImageNet's."""
        return {"mean": IMAGENET_MEAN, "std": IMAGENET_STD}


@dataclass
class SSLOutput:
    """What an SSL objective returns for one batch."""

    losses: dict[str, torch.Tensor] = field(default_factory=dict)
    #: per reconstructed modality, the prediction ``B×C×H×W`` (for reconstruction grids)
    predictions: dict[str, torch.Tensor] = field(default_factory=dict)
    #: ``B×N`` bool, True where a patch was masked
    mask: torch.Tensor | None = None


class SSLObjective(nn.Module):
    """An auxiliary self-supervised objective.

    ``modalities`` lists the modalities it reads (the core computes them on the device from the
    augmented batch). ``attach`` is called once, before training, to build the layers that depend
    on the backbone and on the modalities' channel counts.
    """

    modalities: list[str] = []

    #: the modality whose patches are hidden from the backbone (None: the objective masks nothing)
    mask_modality: str | None = None

    def attach(self, backbone: Backbone, channels: dict[str, int], image_size: tuple[int, int]) -> None:
        pass

    def check_grid(self, grid: tuple[int, int]) -> None:
        """Raise ``ValueError`` (the message says the fix) when the objective cannot work on a
        patch grid of ``grid`` (rows, cols), e.g. a mask ratio that hides no patch. Called at
        validation, before any data is read."""

    def set_grad_checkpointing(self, enable: bool = True) -> None:
        """``train.grad_checkpointing``: recompute the objective's own activations (a decoder's) in
        the backward pass, as the backbone does. Objectives without layers of their own keep this."""

    def forward(self, backbone: Backbone, inputs: dict[str, torch.Tensor]) -> SSLOutput:
        raise NotImplementedError


@dataclass
class LabelInfo:
    """One kind of label a dataset provides."""

    kind: str  # "binary" | "multiclass" | "multilabel"
    names: list[str]  # class names (binary: [negative, positive]) or attribute names
    #: multilabel: the share of positives per name in the training split, where the dataset knows it
    positive_rate: list[float] | None = None


@dataclass
class DatasetInfo:
    labels: dict[str, LabelInfo]
    image_size: tuple[int, int]
    #: group labels available for fairness reports, e.g. {"male": ["female", "male"]}
    groups: dict[str, list[str]] = field(default_factory=dict)
    #: whether items are video frames carrying ``video`` (tasks then report video-level metrics)
    videos: bool = False
    #: rows of the dataset's lists left out as bad (``on_bad_row: skip``), each "FILE:LINE: reason"
    skipped_rows: list[str] = field(default_factory=list)
    #: the settings its frames were prepared with (``lssat prepare``'s record), where the dataset
    #: knows them: ``lssat predict`` finds faces in new files the same way
    preparation: dict[str, Any] | None = None


class DatasetSource:
    """A dataset with named splits.

    ``split(name)`` returns a ``torch.utils.data.Dataset`` whose items are dicts with
    ``image`` (``3×H×W``: ``uint8``, as the builtin readers give it, a quarter of the bytes to
    move between processes; or float in [0, 1]), ``labels`` (a dict keyed like ``info.labels``),
    ``index`` (int), and optionally ``video`` (int, for video-level metrics), ``groups`` and
    ``skipped`` (str: the unreadable files this item replaced, newline-separated, "" for none;
    every item of a split carries it or none does, so that the trainer counts skips that happen
    in loader workers).
    """

    info: DatasetInfo
    splits: tuple[str, ...] = ("train", "val")

    def split(self, name: str):
        raise NotImplementedError


class Task:
    """A primary task: picks its labels from the dataset, sizes its head, owns loss and metrics."""

    #: the key of ``DatasetInfo.labels`` this task reads
    label: str
    #: the metric that ranks runs (leaderboards, best checkpoint)
    headline: str

    def bind(self, info: DatasetInfo) -> int:
        """Check the dataset fits this task; return the number of head outputs."""
        raise NotImplementedError

    def loss(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def scores(self, logits: torch.Tensor) -> torch.Tensor:
        """Per-sample scores (probabilities) from logits."""
        raise NotImplementedError

    def metrics(self, logits: torch.Tensor, target: torch.Tensor, extras: dict[str, Any]) -> dict[str, float]:
        """Metrics over the whole split. ``extras`` may hold ``video`` and ``groups`` tensors."""
        raise NotImplementedError

    def metric_names(self, info: DatasetInfo) -> list[str] | None:
        """The metric names :meth:`metrics` reports on this dataset (``auc``, ``auc@Male=1``, ...),
        so that ``train.best_metric`` is checked before training; None when not known in advance."""
        return None

    def higher_is_better(self, metric: str) -> bool:
        """The direction of a metric, for the best checkpoint and leaderboards. By convention,
        error rates (``eer``), fairness gaps (``*_gap@...``) and losses are better lower."""
        return higher_is_better(metric)

    def prediction_columns(self) -> list[str]:
        """The columns ``lssat predict`` writes after ``path``, the same for every image."""
        raise NotImplementedError

    def prediction_row(self, score: torch.Tensor) -> dict[str, Any]:
        """One image's values for :meth:`prediction_columns`, from its row of :meth:`scores`."""
        raise NotImplementedError


@dataclass
class FaceCrop:
    """One face of one sampled frame of a file, cropped as ``lssat prepare`` writes it."""

    #: ``size×size×3`` RGB bytes (numpy), the crop prepare would write for this frame
    image: Any
    #: the frame's index in the video (0 for a photo)
    frame: int
    #: the frame's time in seconds from the video's first frame (None for a photo)
    time: float | None
    #: the face the detector found in this frame, ``(top, left, height, width)`` in its pixels;
    #: None where it found none (the crop then follows the face's track, as prepare's does)
    box: tuple[float, float, float, float] | None
    #: the face's track: 0 the largest face (the only one unless ``all_faces``)
    track: int = 0


@dataclass
class FaceFile:
    """What a :class:`FaceReader` read of one file."""

    kind: str  # "video" | "image"
    #: the crops of the sampled frames, track by track, frame by frame
    crops: Any
    #: the file's frame count (1 for a photo)
    frames_in_file: int
    #: why a video stopped early (truncated, damaged), None when it did not
    warning: str | None = None


class FaceReader:
    """Finds the faces of a video or photo file exactly as a dataset's frames were prepared
    (``lssat predict``; the kind ``face_reader``). A file that cannot be read is a
    :class:`~lssat_framework.errors.DataError`."""

    #: the file endings it reads, lower case (``.mp4``, ``.jpg``): a folder's other files are left out
    suffixes: frozenset[str] = frozenset()

    def settings(self, recorded: dict[str, Any] | None, overrides: dict[str, Any]) -> dict[str, Any]:
        """The preparation settings to read with: ``recorded`` (a dataset's record, None: not
        known) with ``overrides`` (setting -> value; None: not given) over it, checked."""
        raise NotImplementedError

    def read(self, path, settings: dict[str, Any], all_faces: bool = False) -> FaceFile:
        """The file's sampled frames' face crops (:class:`FaceCrop`, yielded lazily: memory does
        not grow with the video's length); with ``all_faces`` one track per face, else the
        largest face's."""
        raise NotImplementedError


def match_channels(x: torch.Tensor, channels: int) -> torch.Tensor:
    """Feed a modality of C channels to a backbone of ``channels`` inputs.

    Fewer channels are tiled (a 1-channel LDP map becomes 3 identical channels, as a gray image
    given to an RGB network); more channels than the backbone takes is an error.
    """
    have = x.shape[1]
    if have == channels:
        return x
    if have > channels:
        raise ValueError(f"a modality of {have} channels cannot feed a backbone of in_chans={channels}")
    repeats = -(-channels // have)
    return x.repeat(1, repeats, 1, 1)[:, :channels]
