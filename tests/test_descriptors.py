"""Descriptors against independent references: scikit-image for LBP on real photographs, codes
that do not depend on the input's floating type, params refused with the fix (the loop references
for LTP, LDP and HOG: test_descriptor_references.py; what every descriptor keeps:
test_descriptor_contract.py)."""

import numpy as np
import pytest
import torch
from skimage import color, data, feature

import lssat_framework as lssat
from lssat_descriptors import HOG, LBP, LDP, LTP
from lssat_descriptors.lbp import lbp_code_count


def photos():
    """Real photographs that scikit-image ships, as uint8 gray, cropped to keep the tests fast."""
    faces = (data.lfw_subset()[:4] * 255).round().astype(np.uint8)  # 25×25 LFW face crops
    return [
        data.camera()[100:196, 180:276],
        (color.rgb2gray(data.astronaut()) * 255).round().astype(np.uint8)[40:136, 150:246],
        data.coins()[:80, :96],
        np.concatenate(list(faces), axis=1),
    ]


def as_tensor(gray_uint8):
    return torch.from_numpy(np.asarray(gray_uint8)).float().div(255)[None, None]


@pytest.mark.parametrize("points,radius", [(8, 1), (16, 2), (24, 3)])
@pytest.mark.parametrize("method", ["default", "ror", "uniform", "nri_uniform"])
def test_lbp_codes_equal_scikit_image_on_every_pixel_of_real_photos(points, radius, method):
    lbp = LBP(points, radius, method)
    for photo in photos():
        expected = feature.local_binary_pattern(photo, points, radius, method)
        np.testing.assert_array_equal(lbp.codes(as_tensor(photo))[0, 0].numpy(), expected)


def test_lbp_exact_on_flat_and_noisy_images():
    rng = np.random.default_rng(0)
    images = [np.full((12, 12), 77, np.uint8), rng.integers(0, 256, (20, 17)).astype(np.uint8), (rng.random((16, 16)) < 0.5).astype(np.uint8) * 255]
    for image in images:
        for method in ("default", "nri_uniform"):
            expected = feature.local_binary_pattern(image, 16, 2, method)
            np.testing.assert_array_equal(LBP(16, 2, method).codes(as_tensor(image))[0, 0].numpy(), expected)


def test_lbp_hand_checked_3x3():
    # neighbours of the centre 50, counter-clockwise from the east: 60, ~35.9, 20, ~21.7, 40, ~64.1, 80, ~78.3
    image = np.array([[10, 20, 30], [40, 50, 60], [70, 80, 90]], np.uint8)
    code = LBP(8, 1, "default").codes(as_tensor(image))[0, 0, 1, 1].item()
    assert code == 1 + 32 + 64 + 128
    assert code == feature.local_binary_pattern(image, 8, 1, "default")[1, 1]


def test_lbp_output_is_normalised_by_the_method_code_range():
    image = as_tensor(data.camera()[:64, :64])
    for method in ("default", "uniform", "nri_uniform"):
        out = LBP(8, 1, method)(image)
        codes = LBP(8, 1, method).codes(image)
        assert out.min() >= 0 and out.max() <= 1
        torch.testing.assert_close(out, codes.float() / (lbp_code_count(8, method) - 1))


def test_multi_scale_stacks_channels():
    image = as_tensor(photos()[0])
    multi = LBP([8, 16], [1, 2], "uniform")
    assert multi.channels == 2
    codes = multi.codes(image)
    torch.testing.assert_close(codes[:, 1:], LBP(16, 2, "uniform").codes(image))
    assert LTP([8, 8], [1, 2]).channels == 4
    assert LDP(radius=[1, 2]).codes(image).shape[1] == 2


def test_rgb_input_uses_rgb2gray_weights():
    rgb = torch.rand(2, 3, 16, 16, generator=torch.Generator().manual_seed(0))
    gray = (rgb.double() * torch.tensor([0.2125, 0.7154, 0.0721], dtype=torch.float64).view(1, 3, 1, 1)).sum(1, keepdim=True)
    torch.testing.assert_close(LBP().codes(rgb), LBP().codes(gray))
    torch.testing.assert_close(lssat.create("descriptor", "gray")(rgb), gray.float())


def exactly_representable_rgb():
    """A photograph in multiples of 1/256: exact in float16, bfloat16, float32 and float64."""
    return torch.from_numpy(data.astronaut()[100:148, 180:228]).permute(2, 0, 1)[None].double().div(256).float()


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float64])
def test_codes_do_not_depend_on_the_input_floating_type(dtype):
    """Issue 16 item 21: the gray sum ran in the input's dtype, so half-precision input changed
    2–15 % of the codes; the same pixel values must give the same codes in any floating type."""
    rgb = exactly_representable_rgb()
    assert torch.equal(rgb.to(dtype).float(), rgb)
    for descriptor in (LBP(8, 1, "uniform"), LBP(16, 2), LTP(), LDP(k=3, radius=[1, 2])):
        expected = descriptor.codes(rgb)
        assert torch.equal(descriptor.codes(rgb.to(dtype)), expected), f"{descriptor!r} on {dtype}"
    for hog in (HOG(cell=8), HOG(cell=8, color="rgb")):
        assert torch.equal(hog.histograms(rgb.to(dtype)), hog.histograms(rgb)), f"HOG {hog.color} on {dtype}"
    gray = lssat.create("descriptor", "gray")
    assert gray(rgb.to(dtype)).dtype == dtype


def test_hog_cell_that_does_not_divide_the_image_size_is_refused_with_the_fix():
    """Issue 16 item 24: such a cell passed validation and failed in run with a raw ValueError;
    check_image_size refuses it before any data is read, naming the cells and sizes that work."""
    hog = lssat.create("descriptor", "hog", cell=7)
    with pytest.raises(ValueError, match=r"cell=7 does not divide the image size 32×32: .* 1, 2, 4, 8, 16, 32 .* \(28 or 35 instead of 32\)"):
        hog.check_image_size((32, 32))
    with pytest.raises(ValueError, match=r"one of 1, 2 .*\(24 or 32 instead of 30\)"):
        HOG(cell=8).histograms(torch.rand(1, 3, 30, 32))
    HOG(cell=8).check_image_size((32, 48))
    for name in ("rgb", "gray", "lbp", "ltp", "ldp"):  # no size constraint
        lssat.create("descriptor", name).check_image_size((7, 5))


@pytest.mark.parametrize("name,radius", [("ldp", 0), ("ldp", -1), ("ldp", []), ("ldp", [1, 0]), ("lbp", []), ("ltp", [])])
def test_radius_zero_negative_or_empty_is_refused_by_the_params(name, radius):
    """Issue 16 (messages): LDP radius 0 gave a constant code; a negative or empty radius list a
    raw error at run time."""
    with pytest.raises(lssat.LssatError, match="radius"):
        lssat.create("descriptor", name, radius=radius)
    if name == "ldp":
        with pytest.raises(ValueError, match="radius"):
            LDP(radius=radius)
