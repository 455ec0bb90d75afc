"""Image files: decode any picture a person has, check files and class folders (DataError)."""

from __future__ import annotations

import contextlib
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from utils.fetch import DataError

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".gif")
HEIF_SUFFIXES = (".heic", ".heif")  # read only with pillow-heif installed


def _plain_pixels(img):
    """Upright (EXIF), 8-bit (16-bit grey scaled, not clipped), opaque (over white) pixels."""
    orientation = 1
    with contextlib.suppress(Exception):  # damaged EXIF must not stop a picture that is fine
        orientation = int(img.getexif().get(0x0112, 1))
    img = img if orientation == 1 else ImageOps.exif_transpose(img)
    if img.mode in ("I;16", "I;16L", "I;16B", "I"):
        img = Image.fromarray(np.clip(np.round(np.asarray(img) / 257), 0, 255).astype("uint8"), "L")
    if img.mode in ("RGBA", "LA", "PA") or \
            (img.mode in ("P", "L", "RGB") and "transparency" in img.info):  # or a colour key
        img = Image.alpha_composite(Image.new("RGBA", img.size, (255,) * 4), img.convert("RGBA"))
    return img


def _decode_image(path: str | Path, mode: str = "RGB", draft: bool = False):
    """Decode an image with Pillow to uint8 pixels (``draft``: only check), or raise DataError."""
    path = Path(path)
    if path.is_dir():
        raise DataError(f"{path} is a folder, not an image file. Give the image files "
                        f"inside it instead (for example {path / '*.jpg'}).")
    if not path.exists():
        raise DataError(f"{path} does not exist. Check the path and try again.")
    if not path.is_file():
        raise DataError(f"{path} is not a regular file. Give an image file instead.")
    if path.stat().st_size == 0:
        raise DataError(f"{path} is empty (0 bytes). Delete it or replace it with a real image.")
    heif = False
    if path.suffix.lower() in HEIF_SUFFIXES:  # the iPhone default, if pillow-heif is installed
        with contextlib.suppress(ImportError):
            import pillow_heif
            pillow_heif.register_heif_opener()
            heif = True
    try:
        with warnings.catch_warnings(action="ignore", category=Image.DecompressionBombWarning):
            with Image.open(path) as img:  # a warning from 89 megapixels: real photos have that
                if draft:  # JPEG: decode at 1/8 scale, enough to find damaged data
                    img.draft("RGB", (max(1, img.width // 8), max(1, img.height // 8)))
                    img.load()
                    return None
                return np.asarray(_plain_pixels(img).convert(mode), dtype=np.uint8)
    except UnidentifiedImageError:
        hint = (" HEIC/HEIF photos (the iPhone default) need `pip install pillow-heif`, or export "
                "the photo as JPEG." if path.suffix.lower() in HEIF_SUFFIXES and not heif else "")
        raise DataError(f"{path} is not an image file Pillow can read. "
                        f"Delete or replace it.{hint}") from None
    except Image.DecompressionBombError as err:
        raise DataError(f"{path} is too large to open safely ({err}). Shrink it (for example "
                        "to 4000 pixels wide) and try again.") from None
    except PermissionError:
        raise DataError(f"{path} cannot be read: permission denied.") from None
    except MemoryError:
        raise DataError(f"{path} is too large to decode in the memory available. Shrink it "
                        "and try again.") from None
    except Exception as err:  # Pillow's decoders raise many kinds (OSError, SyntaxError, ...)
        detail = " ".join(str(err).split()) or type(err).__name__
        raise DataError(f"{path} is damaged and cannot be decoded ({detail}). It is probably "
                        "truncated: delete it and fetch or copy it again.") from None


# How every image becomes a model's input. Training, evaluation, prediction and
# Grad-CAM all go through prepare_image, and save_model records this in the
# sidecar, so a saved model sees the same pixels as the notebook that tested it.
def preparation(antialias: bool = True) -> dict:
    """What :func:`prepare_image` does, as a saved model's sidecar records it."""
    return {"decoder": "Pillow", "exif_orientation": True, "resize": "bilinear",
            "antialias": antialias, "dtype": "float32", "value_range": [0, 255]}


def resize(pixels: np.ndarray, size: tuple[int, int], antialias: bool = True) -> np.ndarray:
    """Resize ``(h, w, c)`` pixels to ``size=(height, width)`` as float32 (bilinear).

    ``antialias=True`` averages every source pixel when shrinking (what a photo
    needs); ``False`` is ``tf.image.resize``'s default, which samples a few pixels
    and lets fine detail alias. A picture already of that size is only converted.
    Example: ``resize(photo, (224, 224)).shape == (224, 224, 3)``.
    """
    import tensorflow as tf

    if tuple(pixels.shape[:2]) == tuple(size):
        return pixels.astype("float32")
    return tf.image.resize(pixels, size, method="bilinear", antialias=antialias).numpy()


def prepare_image(path: str | Path, size: tuple[int, int], colour_mode: str = "rgb",
                  channels: int = 3, antialias: bool = True) -> np.ndarray:
    """Turn an image file into a model's input: float32 ``(height, width, channels)``, 0-255.

    Decoded with Pillow (any format :func:`read_image` reads, turned upright by
    its EXIF orientation), made ``"grey"`` if asked (repeated to ``channels``),
    then resized with :func:`resize` (bilinear, antialiased unless ``antialias=False``).
    Example: ``prepare_image("my_alpaca.jpg", (224, 224)).shape == (224, 224, 3)``.
    """
    pixels = _decode_image(path, "L" if colour_mode == "grey" else "RGB")
    if pixels.ndim == 2:
        pixels = np.repeat(pixels[..., None], channels, axis=-1)
    return resize(pixels, size, antialias)


def read_image(path: str | Path, size: tuple[int, int] | None = None,
               channels: int = 3) -> np.ndarray:
    """Decode an image to uint8 ``(h, w, channels)``, resized as by prepare_image if ``size``."""
    array = np.atleast_3d(_decode_image(path, "L" if channels == 1 else "RGB"))
    return array if size is None else np.clip(np.round(resize(array, size)), 0, 255).astype("uint8")


def check_image_file(path: str | Path) -> None:
    """Raise :class:`DataError` if ``path`` is empty, truncated or not an image (fast for JPEGs)."""
    _decode_image(path, draft=True)


def image_files(folder: Path) -> list[Path]:
    """The files in ``folder`` with an image suffix (:data:`IMAGE_SUFFIXES`), sorted."""
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)


def check_image_folder(directory: str | Path, check_files: bool = True) -> list[str]:
    """Check 2+ class sub-folders of images (``check_files``: decode each); return them sorted."""
    directory = Path(directory)
    if not directory.is_dir():
        raise DataError(f"{directory} is not a folder. "
                        "Point to a folder with one sub-folder per class.")
    classes = sorted(p.name for p in directory.iterdir() if p.is_dir() and p.name[0] != ".")
    if len(classes) < 2:
        raise DataError(f"{directory} has {len(classes)} class folder(s) ("
                        f"{', '.join(classes) or 'none'}); a classifier needs at least two. "
                        "Put each class's images in its own sub-folder.")
    for name in classes:
        if not (files := image_files(directory / name)):
            raise DataError(f"The class folder {directory / name} holds no images. Add images "
                            "to it or remove the folder.")
        for file in files if check_files else ():
            check_image_file(file)
    return classes
