"""Reading image files into RGB uint8 arrays, whatever their stored format.

Grey, grey+alpha, RGBA, palette, 16-bit and float images all come out as
``(H, W, 3)`` uint8 so that every model sees the same kind of input. A file
that cannot be decoded is an error naming the file. An EXIF orientation tag
(as cameras and phones write it) is applied, so the array is the image as a
viewer shows it: a photo stored sideways with its tag is read upright, the
same way for a reference and its distorted copy.
"""
from __future__ import annotations

import os

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

IMAGE_EXTENSIONS = (".bmp", ".png", ".jpg", ".jpeg", ".tif", ".tiff", ".webp", ".ppm", ".pgm")


class ImageReadError(ValueError):
    """An image file is missing or cannot be decoded."""


def to_rgb_uint8(array: np.ndarray, source: str = "array") -> np.ndarray:
    """Converts a decoded image array (any depth, 1-4 channels) to RGB uint8.

    16-bit data are scaled by 255/65535 (rounded), float data in [0, 1] by 255;
    alpha is dropped (not composited), grey is repeated to three channels.
    """
    array = np.asarray(array)
    if array.ndim == 2:
        array = array[..., None]
    if array.ndim != 3 or array.shape[-1] not in (1, 2, 3, 4):
        raise ImageReadError(f"{source}: expected an image of shape (H, W[, 1-4]), got {array.shape}")
    channels = array.shape[-1]
    if channels in (2, 4):  # drop alpha
        array = array[..., : channels - 1]
    if array.shape[-1] == 1:
        array = np.repeat(array, 3, axis=-1)
    if array.dtype == np.uint8:
        return np.ascontiguousarray(array)
    if array.dtype == np.bool_:
        return array.astype(np.uint8) * 255
    if np.issubdtype(array.dtype, np.integer):
        peak = 65535.0 if array.max(initial=0) > 255 or array.dtype.itemsize >= 2 else 255.0
        if array.dtype.itemsize >= 4 and array.max(initial=0) > 65535:
            peak = float(np.iinfo(array.dtype).max)
        scaled = np.round(array.astype(np.float64) * (255.0 / peak))
        return np.clip(scaled, 0, 255).astype(np.uint8)
    if np.issubdtype(array.dtype, np.floating):
        if not np.isfinite(array).all():
            raise ImageReadError(f"{source}: image holds non-finite values")
        scale = 255.0 if array.max(initial=0) <= 1.0 else 1.0
        return np.clip(np.round(array * scale), 0, 255).astype(np.uint8)
    raise ImageReadError(f"{source}: unsupported pixel type {array.dtype}")


def _upright(image: Image.Image) -> Image.Image:
    """``image`` turned by its EXIF orientation; itself (no copy) when the tag is absent, 1 or unreadable."""
    try:
        if image.getexif().get(_ORIENTATION, 1) in (1, None):
            return image
        return ImageOps.exif_transpose(image)
    except Exception:  # noqa: BLE001 - a malformed EXIF block is no reason to refuse the pixels
        return image


_ORIENTATION = 0x0112  # the EXIF tag; values 2..8 ask for a flip and/or a rotation
_STRIP_PIXELS = 1 << 20  # pixels per strip copied out of Pillow's buffer


def _pixels(image: Image.Image) -> np.ndarray:
    """The pixels of a decoded image as a new writable array, copied a strip of rows at a time.

    ``np.array(image)`` goes through one bytes object of the whole image, so a
    24-megapixel photo briefly needs Pillow's buffer, the bytes and the array
    (about 240 MB); strips keep the extra to a few megabytes.
    """
    width, height = image.size
    rows = max(_STRIP_PIXELS // max(width, 1), 1)
    if rows >= height:
        return np.array(image)
    first = np.asarray(image.crop((0, 0, width, rows)))
    array = np.empty((height, *first.shape[1:]), dtype=first.dtype)
    array[:rows] = first
    for top in range(rows, height, rows):
        array[top:top + rows] = np.asarray(image.crop((0, top, width, min(top + rows, height))))
    return array


def read_image(path: str | os.PathLike) -> np.ndarray:
    """Reads ``path`` as an ``(H, W, 3)`` uint8 RGB array."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise ImageReadError(f"image file not found: {path}")
    try:
        with Image.open(path) as opened:
            opened.load()
            image = _upright(opened)
            if image.mode == "P":
                image = image.convert("RGBA")
            elif image.mode in ("CMYK", "YCbCr", "LAB", "HSV"):
                image = image.convert("RGB")
            elif image.mode == "1":
                image = image.convert("L")
            array = _pixels(image)
            if image.mode in ("I;16", "I;16B", "I;16L", "I;16N"):
                array = array.astype(np.uint16)
            elif image.mode == "I" and array.max(initial=0) <= 65535:
                array = array.astype(np.uint16)
    except (UnidentifiedImageError, OSError, SyntaxError) as error:
        raise ImageReadError(f"cannot decode image {path}: {error}") from None
    return to_rgb_uint8(array, source=path)


def is_image_file(name: str) -> bool:
    return name.lower().endswith(IMAGE_EXTENSIONS)
