"""Test-time augmentation (TTA): the named sets and the graph op that applies them.

A model's TTA score for a pair is the mean of its scores over the pair's
augmented copies. Every augmentation is applied identically to the reference
and the distorted image. Named sets:

* ``none``: the image as it is (1 copy).
* ``geometric``: the 8 distinct rotations/mirrorings of a square
  (rotations 0, 90, 180, 270 degrees, each with and without a left-right
  mirror).
* ``ntire``: the NTIRE 2021 reference's 22 copies for the NTIRE 2021 submission: rotations
  0, 90, 180, 270; up-down flip, left-right flip, both flips (the NTIRE 2021 reference's
  ``flip1``..``flip3``; "both" equals a 180 degree rotation, kept so the
  weighting matches the reference); CIE Lab lightness scaled by 0.1, 0.2, ..., 1.5.

A custom set is a comma-separated string or a list of names; each name is
``+``-joined parts: ``identity``, ``rot90``, ``rot180``, ``rot270``,
``flip_lr``, ``flip_ud``, ``lightness:F``. Example: ``"identity,rot90+flip_lr,lightness:0.5"``.
"""
from __future__ import annotations

import dataclasses
from typing import Iterable, Sequence

import tensorflow as tf

from ..data.augment import lab_to_rgb, paired_geometric, rgb_to_lab


@dataclasses.dataclass(frozen=True)
class Augmentation:
    """One deterministic transform: lightness scale, then rotation, then flips.

    ``rot_k`` counts counter-clockwise quarter turns (as ``numpy.rot90``);
    ``lightness`` multiplies CIE Lab L (None: colours untouched).
    """

    rot_k: int = 0
    flip_lr: bool = False
    flip_ud: bool = False
    lightness: float | None = None

    @property
    def name(self) -> str:
        parts = []
        if self.lightness is not None:
            parts.append(f"lightness:{self.lightness:g}")
        if self.rot_k % 4:
            parts.append(f"rot{90 * (self.rot_k % 4)}")
        if self.flip_lr:
            parts.append("flip_lr")
        if self.flip_ud:
            parts.append("flip_ud")
        return "+".join(parts) or "identity"


_NTIRE_LIGHTNESS = tuple(round(0.1 * i, 1) for i in range(1, 16))  # 0.1 ... 1.5

TTA_SETS: dict[str, tuple[Augmentation, ...]] = {
    "none": (Augmentation(),),
    "geometric": tuple(Augmentation(rot_k=k, flip_lr=lr) for lr in (False, True) for k in range(4)),
    "ntire": (
        *(Augmentation(rot_k=k) for k in range(4)),
        Augmentation(flip_ud=True),
        Augmentation(flip_lr=True),
        Augmentation(flip_lr=True, flip_ud=True),
        *(Augmentation(lightness=f) for f in _NTIRE_LIGHTNESS),
    ),
}


def parse_augmentation(text: str) -> Augmentation:
    """``"rot90+flip_lr"`` -> Augmentation; unknown parts are an error listing the known ones."""
    rot_k, flip_lr, flip_ud, lightness = 0, False, False, None
    for part in text.strip().lower().split("+"):
        part = part.strip()
        if part in ("identity", "none", ""):
            continue
        if part in ("rot0", "rot90", "rot180", "rot270"):
            rot_k += int(part[3:]) // 90
        elif part == "flip_lr":
            flip_lr = not flip_lr
        elif part == "flip_ud":
            flip_ud = not flip_ud
        elif part.startswith("lightness:"):
            try:
                lightness = float(part.split(":", 1)[1])
            except ValueError:
                raise ValueError(f"TTA part {part!r}: lightness needs a number, e.g. lightness:0.5") from None
            if not lightness > 0:
                raise ValueError(f"TTA part {part!r}: the lightness factor must be positive")
        else:
            raise ValueError(
                f"unknown TTA part {part!r} in {text!r}; known: identity, rot90, rot180, rot270, "
                "flip_lr, flip_ud, lightness:F (joined with '+')"
            )
    return Augmentation(rot_k=rot_k % 4, flip_lr=flip_lr, flip_ud=flip_ud, lightness=lightness)


def resolve_tta(spec: str | Augmentation | Iterable[str | Augmentation] | None) -> tuple[Augmentation, ...]:
    """A set name, a comma-separated custom list, or a list of names/Augmentations -> tuple."""
    if spec is None:
        return TTA_SETS["none"]
    if isinstance(spec, Augmentation):
        return (spec,)
    if isinstance(spec, str):
        if spec.strip().lower() in TTA_SETS:
            return TTA_SETS[spec.strip().lower()]
        items = [item for item in spec.split(",") if item.strip()]
        if not items:
            raise ValueError(f"empty TTA set {spec!r}; use one of {', '.join(TTA_SETS)} or a custom list")
        try:
            return tuple(parse_augmentation(item) for item in items)
        except ValueError as error:
            raise ValueError(f"{error}; named TTA sets: {', '.join(TTA_SETS)}") from None
    augmentations = tuple(item if isinstance(item, Augmentation) else parse_augmentation(item) for item in spec)
    if not augmentations:
        raise ValueError("a TTA set needs at least one augmentation")
    return augmentations


def _lightness_copies(images: tf.Tensor, factors: Sequence[float]) -> list[tf.Tensor]:
    """``scale_lightness(images, f)`` for every ``f``, converting to Lab only once.

    The forward conversion does not depend on the factor, so it is shared;
    the L scaling and clipping are those of ``scale_lightness`` (tests check
    the copies against it), and the inverse conversion runs on all copies
    in one batch.
    """
    lab = rgb_to_lab(images)
    count = tf.shape(images)[0]
    per_copy = tf.repeat(tf.constant(factors, tf.float32), count)[:, None, None]
    lightness = tf.clip_by_value(tf.tile(lab[..., 0], [len(factors), 1, 1]) * per_copy, 0.0, 100.0)
    colour = tf.tile(lab[..., 1:], [len(factors), 1, 1, 1])
    rgb = lab_to_rgb(tf.concat([lightness[..., None], colour], axis=-1))
    return [rgb[i * count : (i + 1) * count] for i in range(len(factors))]


def augment_pairs(ref: tf.Tensor, dist: tf.Tensor, augmentations: Sequence[Augmentation]):
    """Stacks every augmentation of a batch: ``(N, S, S, 3)`` x2 -> ``(A, N, S, S, 3)`` x2.

    Graph ops only (call it inside a ``tf.function``). The lightness copies
    come from one batched Lab conversion of reference and distorted images
    together (see :func:`_lightness_copies`); then the geometric transforms
    are applied per copy.
    """
    n = tf.shape(ref)[0]
    both = tf.concat([ref, dist], axis=0)  # (2N, S, S, 3): one transform, both images
    factors = sorted({a.lightness for a in augmentations if a.lightness is not None})
    lit = {}
    if factors:
        lit = dict(zip(factors, _lightness_copies(both, factors)))
    refs, dists = [], []
    for aug in augmentations:
        base = both if aug.lightness is None else lit[aug.lightness]
        if aug.rot_k % 4 or aug.flip_lr or aug.flip_ud:
            _, base = paired_geometric(None, base, aug.rot_k % 4, aug.flip_lr, aug.flip_ud)
        refs.append(base[:n])
        dists.append(base[n:])
    return tf.stack(refs), tf.stack(dists)
