"""Cutting an image of any size into the fixed-size squares a model accepts.

Policy (deterministic, the same for reference and distorted image):

* An image of exactly the model's input size ``S`` is one patch.
* Along an axis longer than ``S``, patches start at ``0, stride, 2*stride, ...``
  and one more patch is aligned to the far edge (start ``length - S``), so the
  whole image is covered and no patch reaches past it. The default stride is
  ``S // 2`` (half overlap).
* Along an axis shorter than ``S``, the image is zero-padded (black)
  symmetrically to ``S``: ``(S - length) // 2`` rows/columns before it, the
  rest after it, so the content sits in the centre of the patch. This is how
  the NTIRE 2021 reference fed PieAPP's 256 x 256 images to its 288 x 288 networks.

An image's score is the plain mean of its patch scores.

:class:`ImagePatches` cuts the patches a batch at a time, so memory stays
at the image plus one batch however many patches a large image has (a
6000 x 4000 photo has about 4,600 patches of 144 px at stride 72: 280 MB if
cut all at once).
"""
from __future__ import annotations

import dataclasses

import numpy as np


@dataclasses.dataclass(frozen=True)
class PatchGrid:
    """Where the patches of one image lie.

    ``boxes[i] = (top, left, bottom, right)`` is the part of the *original*
    image that patch ``i`` covers (padding excluded), in pixels, half-open.
    ``pad = (top, bottom, left, right)`` is the zero padding added first.
    """

    height: int
    width: int
    size: int
    stride: int
    pad: tuple[int, int, int, int]
    starts_y: tuple[int, ...]
    starts_x: tuple[int, ...]

    @property
    def count(self) -> int:
        return len(self.starts_y) * len(self.starts_x)

    @property
    def boxes(self) -> np.ndarray:
        pad_top, _, pad_left, _ = self.pad
        rows = []
        for y in self.starts_y:
            for x in self.starts_x:
                top, left = max(y - pad_top, 0), max(x - pad_left, 0)
                bottom = min(y - pad_top + self.size, self.height)
                right = min(x - pad_left + self.size, self.width)
                rows.append((top, left, bottom, right))
        return np.asarray(rows, dtype=np.int64).reshape(-1, 4)


def axis_starts(length: int, size: int, stride: int) -> tuple[int, ...]:
    """Patch start offsets along one axis of ``length`` (already padded to >= size)."""
    if length < size:
        raise ValueError(f"axis of length {length} is shorter than the patch size {size}")
    if stride < 1:
        raise ValueError(f"stride must be a positive number of pixels, got {stride}")
    last = length - size
    starts = list(range(0, last + 1, stride))
    if starts[-1] != last:
        starts.append(last)
    return tuple(starts)


def patch_grid(height: int, width: int, size: int, stride: int | None = None) -> PatchGrid:
    """The patch layout for an ``height`` x ``width`` image and ``size`` x ``size`` patches."""
    if size < 1:
        raise ValueError(f"patch size must be positive, got {size}")
    stride = max(size // 2, 1) if stride is None else int(stride)
    if not 1 <= stride <= size:
        raise ValueError(f"stride must be between 1 and the patch size {size} (so patches cover the image), got {stride}")
    pad_y, pad_x = max(size - height, 0), max(size - width, 0)
    pad = (pad_y // 2, pad_y - pad_y // 2, pad_x // 2, pad_x - pad_x // 2)
    return PatchGrid(
        height=int(height),
        width=int(width),
        size=int(size),
        stride=stride,
        pad=pad,
        starts_y=axis_starts(height + pad_y, size, stride),
        starts_x=axis_starts(width + pad_x, size, stride),
    )


class ImagePatches:
    """The patches of one image in raster order, cut on demand: ``take(start, stop)``.

    Holds the image (zero-padded once when a side is shorter than the patch)
    and nothing else; each call copies only the patches it returns.
    """

    def __init__(self, image: np.ndarray, grid: PatchGrid):
        if image.shape[:2] != (grid.height, grid.width):
            raise ValueError(f"image of shape {image.shape[:2]} does not match the grid's {grid.height}x{grid.width}")
        top, bottom, left, right = grid.pad
        self.image = np.pad(image, ((top, bottom), (left, right), (0, 0))) if any(grid.pad) else image
        self.grid = grid

    @property
    def count(self) -> int:
        return self.grid.count

    def take(self, start: int, stop: int, out: np.ndarray | None = None) -> np.ndarray:
        """Patches ``start .. stop - 1`` as ``(stop - start, S, S, C)``, written into ``out`` when given."""
        size, columns = self.grid.size, len(self.grid.starts_x)
        if out is None:
            out = np.empty((stop - start, size, size, self.image.shape[2]), self.image.dtype)
        for slot, index in enumerate(range(start, stop)):
            y, x = self.grid.starts_y[index // columns], self.grid.starts_x[index % columns]
            out[slot] = self.image[y : y + size, x : x + size]
        return out


class StackedPatches:
    """Patches already cut (a central crop, a resized image), behind the same ``count`` / ``take``."""

    def __init__(self, patches: np.ndarray):
        self.patches = patches

    @property
    def count(self) -> int:
        return len(self.patches)

    def take(self, start: int, stop: int, out: np.ndarray | None = None) -> np.ndarray:
        if out is None:
            return self.patches[start:stop]
        out[: stop - start] = self.patches[start:stop]
        return out


def extract_patches(image: np.ndarray, grid: PatchGrid) -> np.ndarray:
    """``(H, W, C)`` image -> ``(grid.count, S, S, C)`` patches in raster order (all at once; see ImagePatches)."""
    patches = ImagePatches(image, grid)
    return patches.take(0, patches.count)


def coverage_map(grid: PatchGrid, values) -> np.ndarray:
    """Per-pixel mean of the values of the patches covering each pixel: ``(H, W)`` float64.

    Used to draw per-patch scores over the image; with overlapping patches a
    pixel shows the mean of every patch that contains it.
    """
    values = np.asarray(values, dtype=np.float64).reshape(-1)
    if values.size != grid.count:
        raise ValueError(f"expected {grid.count} patch values, got {values.size}")
    total = np.zeros((grid.height, grid.width))
    count = np.zeros((grid.height, grid.width))
    for (top, left, bottom, right), value in zip(grid.boxes, values):
        total[top:bottom, left:right] += value
        count[top:bottom, left:right] += 1
    return total / np.maximum(count, 1)
