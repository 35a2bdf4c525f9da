"""Descriptors against independent references: scikit-image for LBP on real photographs, and
small loop implementations written from the papers for LTP, LDP and HOG."""

import math

import numpy as np
import pytest
import torch
from skimage import color, data, feature

import lssat_framework as lssat
from lssat_descriptors import HOG, LBP, LDP, LTP
from lssat_descriptors.lbp import lbp_code_count
from lssat_descriptors.directional import KIRSCH


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


@pytest.mark.parametrize("name", ["rgb", "gray", "lbp", "ltp", "ldp", "hog"])
def test_every_descriptor_keeps_size_range_and_declared_channels(name):
    descriptor = lssat.create("descriptor", name)
    out = descriptor(torch.rand(2, 3, 32, 32))
    assert out.shape == (2, descriptor.channels, 32, 32)
    assert out.min() >= 0 and out.max() <= 1
    assert not list(descriptor.parameters())


@pytest.mark.parametrize(
    "images,message",
    [
        (torch.rand(3, 16, 16), "4 dimensions"),
        (torch.rand(1, 2, 16, 16), "1 .gray. or 3 .RGB. channels"),
        (torch.randint(0, 255, (1, 1, 16, 16), dtype=torch.uint8), "floating-point"),
        (torch.rand(1, 1, 16, 16) * 255, r"values in \[0, 1\]"),
    ],
)
def test_bad_input_is_a_clear_value_error(images, message):
    for descriptor in (LBP(), LTP(), LDP(), HOG()):
        with pytest.raises(ValueError, match=message):
            descriptor(images)


def test_params_are_validated():
    with pytest.raises(lssat.LssatError, match="same length"):
        lssat.create("descriptor", "lbp", points=[8, 16, 24], radius=[1, 2])
    with pytest.raises(lssat.LssatError, match="method"):
        lssat.create("descriptor", "lbp", method="fancy")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a GPU")
def test_gpu_codes_equal_cpu_codes():
    image = as_tensor(photos()[0])
    for descriptor in (LBP(16, 2, "nri_uniform"), LBP(8, 1, "uniform", compile=True), LTP(), LTP(compile=True), LDP(), LDP(compile=True)):
        torch.testing.assert_close(descriptor.to("cuda").codes(image.cuda()).cpu(), descriptor.to("cpu").codes(image))
    hog = HOG()
    torch.testing.assert_close(hog.to("cuda")(image.cuda()).cpu(), hog.to("cpu")(image))


def test_compiled_descriptors_give_the_same_codes_as_eager():
    gray = as_tensor(photos()[1][:48, :48])
    rgb = torch.from_numpy(data.astronaut()[100:148, 180:228]).permute(2, 0, 1)[None].float().div(255)
    cases = [  # the table encoding (P ≤ 16), the sign-map encoding (P = 24), LTP, LDP
        (LBP(8, 1, "uniform"), LBP(8, 1, "uniform", compile=True), (gray, rgb)),
        (LBP(24, 3, "uniform"), LBP(24, 3, "uniform", compile=True), (gray,)),
        (LTP(8, 1), LTP(8, 1, compile=True), (gray,)),
        (LDP(), LDP(compile=True), (gray,)),
    ]
    for eager, fused, images in cases:
        for image in images:
            torch.testing.assert_close(fused.codes(image), eager.codes(image), msg=f"{eager!r} on {tuple(image.shape)}")
            torch.testing.assert_close(fused(image), eager(image), msg=f"forward of {eager!r}")  # the mapping after the compiled codes


def test_compile_without_a_compiler_is_one_clear_error():
    from torch._inductor import config

    from lssat_framework.errors import ComponentError

    with config.patch({"cpp.cxx": (None, "/nonexistent/c++"), "fx_graph_cache": False}):
        with pytest.raises(ComponentError, match=r"LDP with compile: true could not be compiled here .*set compile: false"):
            LDP(compile=True).codes(torch.rand(1, 1, 13, 11))


def test_a_copied_descriptor_encodes_with_its_own_tables():
    import copy

    original = LBP(8, 1, "uniform")
    image = as_tensor(photos()[0])
    expected = original.codes(image)
    duplicate = copy.deepcopy(original)
    duplicate.table0 = torch.zeros_like(duplicate.table0)
    assert (duplicate.codes(image) == 0).all()
    torch.testing.assert_close(original.codes(image), expected)
