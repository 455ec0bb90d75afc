"""utils.images: decoding any picture a person has, and checking image files and class folders."""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import jpeg_bytes, make_folder
from utils.fetch import DataError
from utils.images import check_image_file, check_image_folder, read_image


@pytest.mark.parametrize("mode,channels,expect", [("RGB", 3, 3), ("L", 3, 3), ("RGB", 1, 1)])
def test_read_image_any_mode_and_size(tmp_path, mode, channels, expect):
    path = tmp_path / "img.jpg"
    path.write_bytes(jpeg_bytes(1, size=(50, 30), mode=mode))
    assert read_image(path, channels=channels).shape == (30, 50, expect)
    resized = read_image(path, size=(64, 64), channels=channels)
    assert resized.shape == (64, 64, expect) and resized.dtype == np.uint8


@pytest.mark.parametrize("kind", ["empty", "truncated", "text"])
def test_bad_image_files(tmp_path, kind):
    path = tmp_path / f"{kind}.jpg"
    good = jpeg_bytes(2, size=(200, 200))
    path.write_bytes({"empty": b"", "truncated": good[: len(good) // 2],
                      "text": b"this is not a picture"}[kind])
    for check in (read_image, check_image_file):
        with pytest.raises(DataError) as err:
            check(path)
        assert str(path) in str(err.value)
        assert "Delete" in str(err.value) or "delete" in str(err.value)


def test_read_image_missing(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        read_image(tmp_path / "nope.jpg")


# ---------------------------------------------------------------- class folders

def test_check_image_folder_returns_sorted_classes(tmp_path):
    assert check_image_folder(make_folder(tmp_path / "f", ("dog", "cat"))) == ["cat", "dog"]


def test_folder_with_fewer_than_two_classes(tmp_path):
    with pytest.raises(DataError, match="at least two"):
        check_image_folder(make_folder(tmp_path / "f", ("cat",)))


def test_folder_with_an_empty_class(tmp_path):
    root = make_folder(tmp_path / "f")
    (root / "bird").mkdir()
    with pytest.raises(DataError, match="bird holds no images"):
        check_image_folder(root)


def test_folder_with_a_corrupt_image(tmp_path):
    root = make_folder(tmp_path / "f")
    (root / "dog/broken.jpg").write_bytes(b"")
    with pytest.raises(DataError, match="broken.jpg is empty"):
        check_image_folder(root)


def test_not_a_folder(tmp_path):
    with pytest.raises(DataError, match="is not a folder"):
        check_image_folder(tmp_path / "absent")


# ---------------------------------------------------------------- any picture a person has

def test_read_image_turns_phone_photos_upright(tmp_path):
    """EXIF orientation 6 means 'rotate 90 degrees clockwise to view'."""
    from PIL import Image

    stored = np.zeros((20, 40, 3), np.uint8)  # landscape as stored: 40 wide, 20 high
    stored[:, :20] = 255  # left half white
    image = Image.fromarray(stored)
    exif = image.getexif()
    exif[0x0112] = 6
    path = tmp_path / "phone.jpg"
    image.save(path, exif=exif, quality=95)
    upright = read_image(path)
    assert upright.shape == (40, 20, 3), "portrait after turning upright"
    assert upright[:15].mean() > 200 and upright[-15:].mean() < 50, "the white half is on top"


def test_read_image_16_bit_greyscale_png_is_scaled_not_clipped(tmp_path):
    from PIL import Image

    ramp = np.linspace(0, 65535, 64 * 8).reshape(8, 64).astype(np.uint16)
    path = tmp_path / "grey16.png"
    Image.fromarray(ramp).save(path)
    with Image.open(path) as saved:
        assert saved.mode.startswith("I")
    pixels = read_image(path, channels=1)[..., 0]
    assert pixels.min() == 0 and pixels.max() == 255
    assert 120 <= pixels[:, 32].mean() <= 135, "mid-grey stays mid-grey"


@pytest.mark.parametrize("kind", ["rgba-png", "palette-gif"])
def test_read_image_lays_transparency_over_white(tmp_path, kind):
    from PIL import Image

    if kind == "palette-gif":  # index 0: yellow, marked transparent; index 1: red
        indices = np.zeros((10, 10), np.uint8)
        indices[:, 5:] = 1
        image = Image.fromarray(indices, "P")
        image.putpalette([255, 255, 0, 255, 0, 0] + [0] * 762)
        path = tmp_path / "img.gif"
        image.save(path, transparency=0)
    else:
        rgba = np.zeros((10, 10, 4), np.uint8)  # fully transparent black ...
        rgba[:, 5:] = (255, 0, 0, 255)          # ... beside opaque red
        path = tmp_path / "img.png"
        Image.fromarray(rgba, "RGBA").save(path)
    pixels = read_image(path)
    assert pixels[:, :5].min() == 255, "transparent pixels become white"
    assert tuple(pixels[5, 8]) == (255, 0, 0)


def test_read_image_cmyk_jpeg_and_extreme_sizes(tmp_path):
    from PIL import Image

    path = tmp_path / "cmyk.jpg"
    Image.new("CMYK", (30, 20), (0, 255, 255, 0)).save(path)  # red in CMYK
    red = read_image(path)
    assert red.shape == (20, 30, 3) and red[..., 0].mean() > 200 and red[..., 1].mean() < 60
    tiny, huge = tmp_path / "tiny.png", tmp_path / "huge.jpg"
    Image.new("RGB", (1, 1), (10, 20, 30)).save(tiny)
    Image.new("RGB", (6000, 4000), (200, 100, 50)).save(huge)
    assert read_image(tiny, size=(64, 64)).shape == (64, 64, 3)
    assert read_image(huge, size=(64, 64)).shape == (64, 64, 3)
