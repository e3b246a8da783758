"""Compression (KADID-10k types 9-10): JPEG 2000 and JPEG, encoded and decoded with Pillow.

Level parameters (``LEVELS``), level 1 (barely visible) to 5 (very bad):

* ``jpeg2000``: compression ratio (24-bit RGB size / code-stream size) of the
  single quality layer, irreversible 9/7 wavelet after the YCbCr colour
  transform: ringing and blur around edges, smeared texture;
* ``jpeg``: Pillow's quality factor (1..95, libjpeg's scaled quantisation
  tables, 4:2:0 chroma subsampling): 8 x 8 blocking, ringing and colour
  bleeding.

Both are deterministic: the random generator is not used.
"""
from __future__ import annotations

import io

import numpy as np
from PIL import Image

from ...registry import DISTORTIONS
from ._common import level_parameter

LEVELS = {
    "jpeg2000": (20, 45, 90, 180, 360),  # compression ratio
    "jpeg": (43, 25, 12, 6, 3),  # Pillow quality
}


def _decode(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as decoded:
        return np.asarray(decoded.convert("RGB")).copy()


def encode_jpeg(image: np.ndarray, quality: int) -> bytes:
    """The JPEG file Pillow writes for ``image`` at ``quality``."""
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(image)).save(buffer, format="JPEG", quality=int(quality))
    return buffer.getvalue()


def jpeg2000_resolutions(height: int, width: int) -> int:
    """Wavelet resolutions for an image: OpenJPEG's default 6, fewer when a side is too short.

    Each extra resolution halves the lowest band; OpenJPEG refuses a band
    narrower than one pixel, so a 32-pixel side allows at most 6.
    """
    return int(max(1, min(6, np.floor(np.log2(min(height, width))) + 1)))


def encode_jpeg2000(image: np.ndarray, ratio: float) -> bytes:
    """The JPEG 2000 code stream (.j2k) Pillow/OpenJPEG writes for ``image`` at compression ``ratio``."""
    buffer = io.BytesIO()
    h, w = image.shape[:2]
    Image.fromarray(np.ascontiguousarray(image)).save(
        buffer, format="JPEG2000", no_jp2=True, irreversible=True, mct=1, quality_mode="rates",
        quality_layers=[float(ratio)], num_resolutions=jpeg2000_resolutions(h, w))
    return buffer.getvalue()


@DISTORTIONS.register("jpeg2000")
def jpeg2000(image: np.ndarray, level: int, rng: np.random.Generator) -> np.ndarray:
    """JPEG 2000 round trip at the level's compression ratio (:func:`encode_jpeg2000`)."""
    return _decode(encode_jpeg2000(image, level_parameter(LEVELS, "jpeg2000", level)))


@DISTORTIONS.register("jpeg")
def jpeg(image: np.ndarray, level: int, rng: np.random.Generator) -> np.ndarray:
    """JPEG round trip at the level's quality (:func:`encode_jpeg`)."""
    return _decode(encode_jpeg(image, level_parameter(LEVELS, "jpeg", level)))
