"""What every descriptor keeps: size, range and declared channels, one clear error for bad input,
validated params, the same codes on the GPU and compiled, tables of its own when copied."""

import pytest
import torch
from skimage import data

import lssat_framework as lssat
from lssat_descriptors import HOG, LBP, LDP, LTP

from test_descriptors import as_tensor, photos


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
