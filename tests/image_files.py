"""Image files on disk for the dataset tests: one writer, so every layout is built the same way."""

import numpy as np
from PIL import Image


def write_image(path, size=(24, 20), color=(200, 30, 30), box=None, box_color=(0, 0, 255)):
    """A ``size`` (width, height; an int for a square) image of one ``color``, with an optional
    ``box`` (left, top, width, height) of ``box_color``, at ``path`` (its folders made)."""
    width, height = (size, size) if isinstance(size, int) else size
    path.parent.mkdir(parents=True, exist_ok=True)
    array = np.zeros((height, width, 3), np.uint8) + np.array(color, np.uint8)
    if box is not None:
        left, top, box_width, box_height = box
        array[top : top + box_height, left : left + box_width] = box_color
    Image.fromarray(array).save(path)
    return path
