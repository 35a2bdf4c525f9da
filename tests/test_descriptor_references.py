"""LTP, LDP and HOG against small loop implementations written from the papers, on a real
photograph and on hand-checked patches."""

import math

import numpy as np
import pytest

from lssat_descriptors import HOG, LDP, LTP
from lssat_descriptors.directional import KIRSCH

from test_descriptors import as_tensor, photos


# --------------------------------------------------------------- references
def bilinear(image, y, x):
    """Bilinear sample with zeros outside, in scikit-image's order of operations."""
    rows, cols = image.shape

    def at(r, c):
        return float(image[r, c]) if 0 <= r < rows and 0 <= c < cols else 0.0

    r0, c0, r1, c1 = math.floor(y), math.floor(x), math.ceil(y), math.ceil(x)
    dy, dx = y - r0, x - c0
    top = (1 - dx) * at(r0, c0) + dx * at(r0, c1)
    bottom = (1 - dx) * at(r1, c0) + dx * at(r1, c1)
    return (1 - dy) * top + dy * bottom


def ltp_reference(image, points, radius, threshold):
    """Tan & Triggs 2010, one pixel at a time."""
    upper = np.zeros(image.shape, np.int64)
    lower = np.zeros(image.shape, np.int64)
    offsets = [(round(-radius * math.sin(2 * math.pi * i / points), 5), round(radius * math.cos(2 * math.pi * i / points), 5)) for i in range(points)]
    for r in range(image.shape[0]):
        for c in range(image.shape[1]):
            centre = float(image[r, c])
            for i, (dy, dx) in enumerate(offsets):
                diff = bilinear(image, r + dy, c + dx) - centre
                if diff >= threshold:
                    upper[r, c] += 1 << i
                elif diff <= -threshold:
                    lower[r, c] += 1 << i
    return upper, lower


def ldp_reference(image, k):
    """Jabid et al. 2010: Kirsch responses, the k largest magnitudes set their bits."""
    padded = np.pad(image.astype(np.int64), 1, mode="edge")
    codes = np.zeros(image.shape, np.int64)
    for r in range(image.shape[0]):
        for c in range(image.shape[1]):
            window = padded[r : r + 3, c : c + 3]
            magnitudes = [abs(int((np.array(mask) * window).sum())) for mask in KIRSCH]
            strongest = sorted(range(8), key=lambda i: (-magnitudes[i], i))[:k]
            codes[r, c] = sum(1 << i for i in strongest)
    return codes


def hog_reference(gray, bins, cell):
    padded = np.pad(gray.astype(np.float64), 1, mode="edge")
    rows, cols = gray.shape
    hist = np.zeros((bins, rows // cell, cols // cell))
    for r in range(rows):
        for c in range(cols):
            gx = padded[r + 1, c + 2] - padded[r + 1, c]
            gy = padded[r + 2, c + 1] - padded[r, c + 1]
            angle = math.atan2(gy, gx) % math.pi
            hist[min(int(angle / math.pi * bins), bins - 1), r // cell, c // cell] += math.hypot(gx, gy)
    norm = np.sqrt((hist**2).sum(axis=0, keepdims=True))
    return hist / np.maximum(norm, 1e-6)


def test_ltp_matches_the_loop_reference_on_a_photo():
    photo = photos()[0][:32, :40]
    for points, radius, threshold in [(8, 1, 5), (8, 2, 3)]:
        upper, lower = ltp_reference(photo, points, radius, threshold)
        codes = LTP(points, radius, threshold).codes(as_tensor(photo))[0]
        np.testing.assert_array_equal(codes[0].numpy(), upper)
        np.testing.assert_array_equal(codes[1].numpy(), lower)


def test_ltp_hand_checked_3x3():
    image = np.array([[50, 50, 50], [50, 50, 58], [50, 42, 50]], np.uint8)
    codes = LTP(8, 1, threshold=5).codes(as_tensor(image))[0, :, 1, 1]
    assert codes.tolist() == [1, 1 << 6]  # east above the dead zone, south below it


def test_ldp_matches_the_loop_reference_on_a_photo():
    photo = photos()[1][:40, :40]
    for k in (1, 3, 5):
        np.testing.assert_array_equal(LDP(k=k).codes(as_tensor(photo))[0, 0].numpy(), ldp_reference(photo, k))


def test_ldp_hand_checked_5x5_edge():
    # centre neighbourhood [[0,0,9]]*3: |m| = 135, 63, 9, 81, 81, 81, 9, 63 -> bits 0, 3, 4 (ties: lower index)
    image = np.zeros((5, 5), np.uint8)
    image[:, 3:] = 9
    assert LDP(k=3).codes(as_tensor(image))[0, 0, 2, 2].item() == 1 + 8 + 16
    assert LDP(k=3)(as_tensor(image))[0, 0, 2, 2].item() == pytest.approx(25 / 255)


def test_hog_matches_the_loop_reference():
    photo = photos()[0][:32, :48]
    gray = photo.astype(np.float64) / 255
    expected = hog_reference(gray, 9, 8)
    got = HOG(bins=9, cell=8).histograms(as_tensor(photo))[0].numpy()
    np.testing.assert_allclose(got, expected, atol=1e-5)
    full = HOG(bins=9, cell=8)(as_tensor(photo))
    assert full.shape == (1, 9, 32, 48)
    np.testing.assert_allclose(full[0, :, 9, 17].numpy(), expected[:, 1, 2], atol=1e-5)
