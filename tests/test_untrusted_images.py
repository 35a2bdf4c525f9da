"""Image files from anywhere: a bomb, a truncated or malformed file costs only itself (a
``DataError`` naming it, skipped under ``on_corrupt: skip``), and every mode and orientation
reaches the model as the RGB picture a viewer shows. Each test checks the bytes ``load_image``
returns."""

import io
import struct
import warnings
import zlib

import numpy as np
import pytest
import torch
from PIL import Image

from lssat_framework.errors import DataError
from lssat_framework.images import load_image

ORIENTATION = 0x0112


def png_header(path, width, height):
    """A PNG that claims width×height 1-bit pixels in a few bytes: the header a bomb needs, with
    no pixel data behind it (only opening it may be tried)."""

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b""))
    return path


def as_array(image: torch.Tensor) -> np.ndarray:
    """``load_image``'s ``3×H×W`` bytes as ``H×W×3`` ints."""
    return image.permute(1, 2, 0).numpy().astype(int)


def astronaut(size=64):
    from skimage import data

    return np.asarray(Image.fromarray(data.astronaut()).resize((size, size), Image.BILINEAR))


# --------------------------------------------------------------------- bombs
def test_a_decompression_bomb_is_a_data_error_naming_the_file_its_pixels_and_the_limit(tmp_path, monkeypatch):
    from lssat_framework.images import decoding as image_decoding

    filters = list(warnings.filters)
    with pytest.raises(DataError, match=r"huge.png: .*400000000 pixels.* limit of 178956970"):
        load_image(png_header(tmp_path / "huge.png", 20000, 20000), 32)  # PIL's bomb error
    with pytest.raises(DataError, match=r"large.png: .*100000000 pixels.* limit of 89478485"):
        load_image(png_header(tmp_path / "large.png", 10000, 10000), 32)  # PIL's bomb warning, an error here
    with pytest.raises(DataError, match=r"big.png: 9000×9000 is 81,000,000 pixels, more than the 67,108,864"):
        load_image(png_header(tmp_path / "big.png", 9000, 9000), 32)  # under PIL's limits, over ours
    assert warnings.filters == filters  # the bomb warning is an error only while decoding
    # the limit is this module's, whatever PIL's process-wide one says
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", None)
    with pytest.raises(DataError, match="big.png: 9000×9000"):
        load_image(tmp_path / "big.png", 32)
    Image.fromarray(astronaut()).save(tmp_path / "photo.png")
    monkeypatch.setattr(image_decoding, "MAX_IMAGE_PIXELS", 64 * 64)
    assert load_image(tmp_path / "photo.png", 64).shape == (3, 64, 64)  # exactly at the limit
    monkeypatch.setattr(image_decoding, "MAX_IMAGE_PIXELS", 64 * 64 - 1)
    with pytest.raises(DataError, match="photo.png: 64×64 is 4,096 pixels, more than the 4,095"):
        load_image(tmp_path / "photo.png", 64)


def test_a_bomb_is_skipped_and_counted_under_on_corrupt_skip(tmp_path):
    from lssat_datasets.files import ImageFiles, Sample

    bomb = png_header(tmp_path / "bomb.png", 20000, 20000)
    Image.fromarray(astronaut()).save(tmp_path / "face.png")
    dataset = ImageFiles([Sample(bomb, {"label": 0}), Sample(tmp_path / "face.png", {"label": 1})], 32, on_corrupt="skip")
    item = dataset[0]
    assert torch.equal(item["image"], load_image(tmp_path / "face.png", 32)) and item["labels"]["label"] == 1
    assert item["skipped"] == str(bomb) and dataset.skipped == {str(bomb)}
    with pytest.raises(DataError, match="bomb.png"):
        ImageFiles([Sample(bomb, {"label": 0})], 32, on_corrupt="error")[0]


# --------------------------------------------------------------------- broken files
def test_a_truncated_or_malformed_file_is_a_data_error_naming_it(tmp_path):
    buffer = io.BytesIO()
    Image.fromarray(astronaut()).save(buffer, "PNG")
    (tmp_path / "cut.png").write_bytes(buffer.getvalue()[: len(buffer.getvalue()) // 2])
    with pytest.raises(DataError, match="cut.png"):
        load_image(tmp_path / "cut.png", 32)
    # a TIFF whose strip offset is stored as a float: PIL raises TypeError while decoding it
    buffer = io.BytesIO()
    Image.fromarray(astronaut(8)).save(buffer, "TIFF")
    tiff = bytearray(buffer.getvalue())
    directory = struct.unpack_from("<I", tiff, 4)[0]
    for entry in range(struct.unpack_from("<H", tiff, directory)[0]):
        at = directory + 2 + 12 * entry
        if struct.unpack_from("<H", tiff, at)[0] == 273:  # StripOffsets, LONG → FLOAT
            struct.pack_into("<H", tiff, at + 2, 11)
    (tmp_path / "odd.tif").write_bytes(bytes(tiff))
    with pytest.raises(DataError, match="odd.tif"):
        load_image(tmp_path / "odd.tif", 8)
    # a face box far larger than any image (a bad label row) is refused before anything is allocated
    Image.fromarray(astronaut()).save(tmp_path / "photo.jpg")
    with pytest.raises(DataError, match=r"photo.jpg: the crop box .* is larger than MAX_IMAGE_PIXELS"):
        load_image(tmp_path / "photo.jpg", 32, box=(0, 0, 100_000, 100_000))


# --------------------------------------------------------------------- deep pixels
def test_16_bit_and_32_bit_grey_are_scaled_to_their_range_not_clipped(tmp_path):
    values = (np.arange(64 * 64).reshape(64, 64) * 16).astype(np.uint16)  # 0 .. 65520
    Image.fromarray(values).save(tmp_path / "deep.png")
    assert Image.open(tmp_path / "deep.png").mode == "I;16"
    image = as_array(load_image(tmp_path / "deep.png", 64))
    assert np.abs(image - np.rint(values / 257)[..., None]).max() <= 1
    # 32-bit integers in 0..65535 are 16-bit ones; larger ones are scaled by the type's maximum
    Image.fromarray(values.astype(np.int32), "I").save(tmp_path / "deep.tif")
    assert np.abs(as_array(load_image(tmp_path / "deep.tif", 64)) - np.rint(values / 257)[..., None]).max() <= 1
    wide = values.astype(np.int64) * 32768  # up to 2³¹ − 2¹⁹
    Image.fromarray(wide.astype(np.int32), "I").save(tmp_path / "wide.tif")
    assert np.abs(as_array(load_image(tmp_path / "wide.tif", 64)) - np.rint(wide * 255 / (2**31 - 1))[..., None]).max() <= 1


def test_float_pixels_are_scaled_from_unit_range_or_stretched_and_nan_refused(tmp_path):
    values = np.linspace(0, 1, 64 * 64, dtype=np.float32).reshape(64, 64)
    Image.fromarray(values).save(tmp_path / "unit.tif")
    assert Image.open(tmp_path / "unit.tif").mode == "F"
    assert np.abs(as_array(load_image(tmp_path / "unit.tif", 64)) - np.rint(values * 255)[..., None]).max() <= 1
    Image.fromarray(values * 4 - 1).save(tmp_path / "wide.tif")  # -1 .. 3: stretched to 0 .. 255
    assert np.abs(as_array(load_image(tmp_path / "wide.tif", 64)) - np.rint(values * 255)[..., None]).max() <= 1
    values[5, 5] = np.nan
    Image.fromarray(values).save(tmp_path / "nan.tif")
    with pytest.raises(DataError, match="nan.tif: .*not finite"):
        load_image(tmp_path / "nan.tif", 64)


# --------------------------------------------------------------------- transparency and modes
def test_transparency_is_composited_on_black_and_other_modes_converted(tmp_path):
    rgb = astronaut()
    alpha = np.tile(np.linspace(0, 255, 64).round().astype(np.uint8), (64, 1))  # transparent at the left
    expected = np.rint(rgb * (alpha / 255)[..., None])
    Image.fromarray(np.dstack([rgb, alpha])).save(tmp_path / "rgba.png")
    assert np.abs(as_array(load_image(tmp_path / "rgba.png", 64)) - expected).max() <= 1
    grey = np.asarray(Image.fromarray(rgb).convert("L"))
    Image.fromarray(np.dstack([grey, alpha]), "LA").save(tmp_path / "la.png")
    assert np.abs(as_array(load_image(tmp_path / "la.png", 64)) - np.rint(grey * (alpha / 255))[..., None]).max() <= 1
    Image.fromarray(grey).save(tmp_path / "grey.png")
    assert np.abs(as_array(load_image(tmp_path / "grey.png", 64)) - grey[..., None]).max() == 0
    bits = np.indices((64, 64)).sum(0) % 2 == 0
    Image.fromarray(bits).save(tmp_path / "bits.png")
    assert Image.open(tmp_path / "bits.png").mode == "1"
    assert np.array_equal(as_array(load_image(tmp_path / "bits.png", 64)), np.repeat(bits[..., None] * 255, 3, 2))


def test_a_palette_image_shows_its_colours_and_its_transparent_entries_black(tmp_path):
    palette = np.array([[255, 0, 255], [200, 30, 30], [30, 200, 30], [30, 30, 200]], np.uint8)  # 0: magenta
    indices = (np.indices((64, 64)).sum(0) // 8 % 4).astype(np.uint8)
    image = Image.fromarray(indices, "P")
    image.putpalette(palette.ravel().tolist())
    image.save(tmp_path / "opaque.png")
    assert np.array_equal(as_array(load_image(tmp_path / "opaque.png", 64)), palette[indices])
    image.save(tmp_path / "keyed.png", transparency=0)  # entry 0 transparent, as GIF-style palettes do
    shown = palette[indices].astype(int)
    shown[indices == 0] = 0
    assert np.array_equal(as_array(load_image(tmp_path / "keyed.png", 64)), shown)
    image.save(tmp_path / "alpha.png", transparency=bytes([0, 255, 128, 255]))  # an alpha per entry
    alpha = np.array([0, 255, 128, 255])[indices][..., None]
    assert np.abs(as_array(load_image(tmp_path / "alpha.png", 64)) - np.rint(palette[indices] * alpha / 255)).max() <= 1


# --------------------------------------------------------------------- orientation
#: how a camera stores an upright picture under each EXIF orientation (the inverse of turning it back)
STORED = {
    2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180, 4: Image.Transpose.FLIP_TOP_BOTTOM, 5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_90, 7: Image.Transpose.TRANSVERSE, 8: Image.Transpose.ROTATE_270,
}


def with_orientation(path, upright: Image.Image, orientation: int, **options):
    """``upright`` stored turned, as a camera does, with the EXIF tag that turns it back."""
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    upright.transpose(STORED[orientation]).save(path, exif=exif.tobytes(), **options)
    return path


def test_every_exif_orientation_is_turned_upright_once_in_every_format(tmp_path):
    upright = Image.fromarray(astronaut(64)[:, 8:56])  # 48 wide, 64 high
    upright.save(tmp_path / "upright.png")
    box = (6, 20, 30, 36)  # off-centre and not square: a swapped axis or a stored-pixel box shows
    expected = load_image(tmp_path / "upright.png", 16, box=box)
    square = load_image(tmp_path / "upright.png", 16)
    for suffix, options in ((".png", {}), (".webp", {"lossless": True}), (".tif", {})):  # PIL's TIFF decoder turns it itself
        for orientation in STORED:
            path = with_orientation(tmp_path / f"turned{orientation}{suffix}", upright, orientation, **options)
            assert torch.equal(load_image(path, 16, box=box), expected), (suffix, orientation)
            assert torch.equal(load_image(path, 16), square), (suffix, orientation)


@pytest.mark.parametrize("orientation", [6, 8])
def test_an_exif_rotated_jpeg_is_read_upright_with_its_box_in_upright_pixels(tmp_path, monkeypatch, orientation):
    from skimage import data

    from test_image_sources import sizes_jpegs_decode_at

    upright = Image.fromarray(data.astronaut()[:, 64:448])  # a portrait: 384 wide, 512 high
    path = with_orientation(tmp_path / "turned.jpg", upright, orientation, quality=95)
    assert Image.open(path).size == (512, 384)
    decoded = sizes_jpegs_decode_at(monkeypatch)
    box = (100, 40, 180, 240)  # left, top, width, height of the face in the upright picture
    image = load_image(path, 40, box=box)
    assert decoded == [(256, 192)]  # decoded at half size, and still twice the target
    crop = upright.crop((100, 40, 280, 280)).resize((40, 40), Image.BILINEAR)
    difference = np.abs(as_array(image) - np.asarray(crop).astype(int))
    assert difference.mean() < 3 and np.percentile(difference, 99) < 30  # JPEG's error, not another picture
    whole = load_image(path, 48)  # the centred square of the upright picture
    expected = np.asarray(upright.crop((0, 64, 384, 448)).resize((48, 48), Image.BILINEAR)).astype(int)
    assert np.abs(as_array(whole) - expected).mean() < 3


def test_a_cmyk_jpeg_is_read_as_its_rgb_and_turned_upright(tmp_path):
    upright = Image.fromarray(astronaut())
    path = with_orientation(tmp_path / "print.jpg", upright.convert("CMYK"), 3, quality=95)
    assert Image.open(path).mode == "CMYK"
    expected = np.asarray(upright.convert("CMYK").convert("RGB")).astype(int)
    assert np.abs(as_array(load_image(path, 64)) - expected).mean() < 3


def test_a_whole_photo_is_read_with_the_same_checks(tmp_path):
    """`lssat predict`'s photos (`load_full_image`, every pixel for the detector): a bomb or a cut
    file is a DataError naming it, the bomb warning an error only meanwhile; a good one comes whole."""
    from lssat_framework.images.reading import load_full_image

    filters = list(warnings.filters)
    with pytest.raises(DataError, match=r"large.png: .*100000000 pixels"):
        load_full_image(png_header(tmp_path / "large.png", 10000, 10000))
    buffer = io.BytesIO()
    Image.fromarray(astronaut()).save(buffer, "PNG")
    (tmp_path / "cut.png").write_bytes(buffer.getvalue()[: len(buffer.getvalue()) // 2])
    with pytest.raises(DataError, match="cut.png"):
        load_full_image(tmp_path / "cut.png")
    assert warnings.filters == filters
    Image.fromarray(astronaut(80)).save(tmp_path / "whole.png")
    assert (load_full_image(tmp_path / "whole.png") == astronaut(80)).all()
