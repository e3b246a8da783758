"""tf.data pipelines from a record table: image files decoded, cropped, augmented, batched.

Only paths and scores are held in memory; images are decoded in parallel
inside the pipeline, cropped or padded to the model's input size, augmented
(the same random rot90/flips and lightness factor for reference and
distorted image), batched and prefetched. Every random choice comes from
stateless ops seeded by ``seed``, so the same seed gives the same batches,
while each epoch sees new shuffles and augmentations.

Crop/pad policy (``crop``):

* ``"center"``: a larger image is centre-cropped (offset ``(H - S) // 2``,
  the NTIRE 2021 reference's TID policy), a smaller one zero-padded around the centre.
* ``"random"``: a random crop position (the same for reference and
  distorted image), smaller sides zero-padded; becomes ``"center"`` when
  ``training=False``.
* ``"pad"``: the same arithmetic as ``"center"``, named for the NTIRE 2021 reference's PieAPP
  policy (256 x 256 zero-padded to 288 x 288 at offset 16).

``crop=None`` takes the policy per row from a ``crop`` column (default
``"center"``), so datasets with different policies can be mixed.

Two optional per-row columns change what a row's images are before that:

* ``resize`` (int, 0 = none): both images are first resized to ``resize`` x
  ``resize`` (bilinear, antialiased), as the NIMA paper resized AVA images to
  256 x 256 before taking 224 x 224 crops;
* ``lightness_factor`` (float, 0 = none): the CIE Lab lightness of both
  images is multiplied by this fixed factor (the offline lightness copies of
  ``lightness_copies``), in training and in prediction alike.

Outputs: ``((ref, dist), y)`` for full-reference tables, ``(dist, y)`` when
no row has a reference; images float32 in 0..255, shape ``(B, S, S, 3)``;
``y`` float32 ``(B, 1)``, standardised by ``score_norm``.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import tensorflow as tf

from ..scales import normalise_scores
from .images import read_image
from .records import is_full_reference

CROP_MODES = ("center", "random", "pad")
_CROP_CODES = {"center": 0, "pad": 0, "random": 1}
AUTOTUNE = tf.data.AUTOTUNE


# ---------------------------------------------------------------- decoding
def _decode_with_pil(path) -> np.ndarray:
    path = path.item() if isinstance(path, np.ndarray) else path
    return read_image(path.decode("utf-8") if isinstance(path, bytes) else str(path))


def decode_rgb(path: tf.Tensor) -> tf.Tensor:
    """Reads and decodes one image file to ``(H, W, 3)`` uint8 inside a graph.

    PNG (8/16-bit, grey, alpha, palette), JPEG and 24/32-bit BMP are decoded
    by TensorFlow; anything else (TIFF, WebP, palette BMP ...) by
    ``images.read_image`` through ``tf.numpy_function``. 16-bit data are scaled
    by 255/65535 and rounded, like ``read_image``. A JPEG carrying EXIF data
    also goes through ``read_image``, which turns it upright by its EXIF
    orientation (TensorFlow's decoder ignores the tag), so training sees the
    image as ``read_image`` and the scorer do.
    """
    data = tf.io.read_file(path)
    head = tf.strings.join([tf.strings.substr(data, 0, _EXIF_SEARCH), b"\0" * _EXIF_SEARCH])  # never too short
    is_png = tf.equal(tf.strings.substr(head, 0, 8), b"\x89PNG\r\n\x1a\n")
    is_jpeg = tf.logical_and(tf.equal(tf.strings.substr(head, 0, 3), b"\xff\xd8\xff"),
                             tf.logical_not(_jpeg_has_exif(head)))
    bits = tf.io.decode_raw(tf.strings.substr(head, 28, 2), tf.uint16)[0]  # BMP bits per pixel
    is_bmp = tf.logical_and(tf.equal(tf.strings.substr(head, 0, 2), b"BM"), tf.logical_or(bits == 24, bits == 32))

    def png():
        image = tf.io.decode_png(data, channels=0, dtype=tf.uint16)
        image = tf.cast(tf.round(tf.cast(image, tf.float32) / 257.0), tf.uint8)
        return _to_three_channels(image)

    def jpeg():
        return tf.io.decode_jpeg(data, channels=3, dct_method="INTEGER_ACCURATE")

    def bmp():
        return _to_three_channels(tf.io.decode_bmp(data, channels=0))

    def other():
        image = tf.numpy_function(_decode_with_pil, [path], tf.uint8, stateful=False)
        return tf.reshape(image, tf.stack([tf.shape(image)[0], tf.shape(image)[1], 3]))

    image = tf.case([(is_png, png), (is_jpeg, jpeg), (is_bmp, bmp)], default=other, exclusive=False)
    image.set_shape([None, None, 3])
    return image


# A JPEG's EXIF block is an APP1 segment, first or right after a JFIF APP0 segment
# (at most 2 + 4 + 65535 bytes in); the head searched for it is this long.
_EXIF_SEARCH = 65600


def _jpeg_has_exif(head: tf.Tensor) -> tf.Tensor:
    """True when the JPEG in ``head`` has an EXIF APP1 segment as its first or second segment."""

    def is_exif_app1(offset):
        return tf.logical_and(tf.equal(tf.strings.substr(head, offset, 2), b"\xff\xe1"),
                              tf.equal(tf.strings.substr(head, offset + 4, 6), b"Exif\0\0"))

    length = tf.cast(tf.io.decode_raw(tf.strings.substr(head, 4, 2), tf.uint8), tf.int32)
    first_is_app = tf.equal(tf.strings.substr(head, 2, 1), b"\xff")
    second = 4 + length[0] * 256 + length[1]
    return tf.logical_or(is_exif_app1(2), tf.logical_and(first_is_app, is_exif_app1(second)))


def _to_three_channels(image: tf.Tensor) -> tf.Tensor:
    channels = tf.shape(image)[-1]
    return tf.cond(channels >= 3, lambda: image[..., :3], lambda: tf.tile(image[..., :1], [1, 1, 3]))


# ---------------------------------------------------------------- crop / pad
def fit_to_size(images, size: int, random_crop, seed) -> list:
    """Crops/pads each image of ``images`` (same shape) to ``size`` x ``size``, one shared offset."""
    shape = tf.shape(images[0])
    height, width = shape[0], shape[1]
    pad_h, pad_w = tf.maximum(size - height, 0), tf.maximum(size - width, 0)
    paddings = [[pad_h // 2, pad_h - pad_h // 2], [pad_w // 2, pad_w - pad_w // 2], [0, 0]]
    padded_h, padded_w = height + pad_h, width + pad_w
    span_h, span_w = padded_h - size, padded_w - size
    draws = tf.random.stateless_uniform((2,), seed=seed, minval=0.0, maxval=1.0)
    random_top = tf.cast(tf.floor(draws[0] * tf.cast(span_h + 1, tf.float32)), tf.int32)
    random_left = tf.cast(tf.floor(draws[1] * tf.cast(span_w + 1, tf.float32)), tf.int32)
    use_random = tf.cast(random_crop, tf.bool)
    top = tf.where(use_random, tf.minimum(random_top, span_h), span_h // 2)
    left = tf.where(use_random, tf.minimum(random_left, span_w), span_w // 2)
    out = []
    for image in images:
        image = tf.pad(image, paddings)
        image = image[top:top + size, left:left + size]
        image.set_shape([size, size, 3])
        out.append(image)
    return out


def fit_to_size_numpy(image: np.ndarray, size: int) -> np.ndarray:
    """The centre crop / zero-pad of ``fit_to_size`` in numpy (for scoring the central patch)."""
    height, width = image.shape[:2]
    pad_h, pad_w = max(size - height, 0), max(size - width, 0)
    if pad_h or pad_w:
        image = np.pad(image, ((pad_h // 2, pad_h - pad_h // 2), (pad_w // 2, pad_w - pad_w // 2), (0, 0)))
    top, left = (image.shape[0] - size) // 2, (image.shape[1] - size) // 2
    return np.ascontiguousarray(image[top:top + size, left:left + size])


# ---------------------------------------------------------------- options
def _augment_options(augment) -> dict | None:
    """None, or {"rot90", "flip_lr", "flip_ud": bool, "lightness": (low, high) | None}."""
    if augment is None or augment is False:
        return None
    if augment is True or augment == "geometric":
        return {"rot90": True, "flip_lr": True, "flip_ud": True, "lightness": None}
    if augment == "seed":
        return {"rot90": True, "flip_lr": True, "flip_ud": True, "lightness": (0.3, 1.5)}
    if isinstance(augment, dict):
        unknown = set(augment) - {"rot90", "flip_lr", "flip_ud", "lightness"}
        if unknown:
            raise ValueError(f"augment: unknown key(s) {sorted(unknown)}; expected rot90, flip_lr, flip_ud, lightness")
        lightness = augment.get("lightness")
        if lightness is not None and len(lightness) == 0:
            lightness = None
        if lightness is not None:
            if len(lightness) != 2 or not 0 < float(lightness[0]) <= float(lightness[1]):
                raise ValueError(f"augment.lightness: expected [low, high] with 0 < low <= high, got {lightness!r}")
            lightness = (float(lightness[0]), float(lightness[1]))
        options = {k: bool(augment.get(k, True)) for k in ("rot90", "flip_lr", "flip_ud")}
        options["lightness"] = lightness
        if not any(options[k] for k in ("rot90", "flip_lr", "flip_ud")) and lightness is None:
            return None
        return options
    raise ValueError(f"augment: expected None, True, 'geometric', 'seed' or a dict, got {augment!r}")


def _apply_augment(ref, dist, seed, options):
    """Paired augmentation honouring the switches of ``options``; uint8 in, float32 out.

    Geometric transforms run on the uint8 images (4x less memory traffic) and
    the lightness change takes ``scale_lightness``'s lookup-table path.
    """
    from .augment import paired_geometric, scale_lightness

    seed = tf.cast(seed, tf.int32)
    if options is not None:
        draws = tf.random.stateless_uniform((3,), seed=seed, minval=0, maxval=4, dtype=tf.int32)
        rot_k = draws[0] if options["rot90"] else 0
        flip_lr = tf.logical_and(options["flip_lr"], draws[1] % 2 == 1)
        flip_ud = tf.logical_and(options["flip_ud"], draws[2] % 2 == 1)
        ref, dist = paired_geometric(ref, dist, rot_k, flip_lr, flip_ud)
    if options is not None and options["lightness"] is not None:
        low, high = options["lightness"]
        factor = tf.random.stateless_uniform((), seed=seed + tf.constant([7, 13]), minval=low, maxval=high)
        dist = scale_lightness(dist, factor)
        ref = None if ref is None else scale_lightness(ref, factor)
    else:
        dist = tf.cast(dist, tf.float32)
        ref = None if ref is None else tf.cast(ref, tf.float32)
    return ref, dist


def normalised_scores(df: pd.DataFrame, score_norm=None, target_columns=None) -> np.ndarray:
    """The ``y`` of each row as float32 ``(N, k)``: standardised MOS, or raw ``target_columns``.

    ``score_norm``: None (raw scores), ``(mean, std)`` for every row, or
    ``{db: (mean, std)}`` per dataset (every ``db`` of the table must be a
    key). A negative std flips the direction (lower-is-better scales).
    """
    if target_columns:
        missing = [c for c in target_columns if c not in df.columns]
        if missing:
            raise ValueError(f"target_columns {missing} are not columns of the record table")
        return df[list(target_columns)].to_numpy(dtype=np.float32)
    db = df["db"].astype(str).to_numpy() if "db" in df.columns else None
    return normalise_scores(df["mos"], db, score_norm).astype(np.float32)[:, None]


def _crop_codes(df: pd.DataFrame, crop, training) -> np.ndarray:
    if crop is None:
        modes = df["crop"].fillna("center").astype(str).str.lower() if "crop" in df.columns else pd.Series(["center"] * len(df))
    else:
        modes = pd.Series([str(crop).lower()] * len(df))
    bad = sorted(set(modes) - set(CROP_MODES))
    if bad:
        raise ValueError(f"crop: unknown mode(s) {bad}; expected one of {CROP_MODES}")
    codes = modes.map(_CROP_CODES).to_numpy(dtype=np.int32)
    if training is False:
        codes[:] = 0
    return codes


def _seed_stream(seed: int) -> tf.data.Dataset:
    """An endless, seeded stream of per-element stateless seeds, new for each epoch."""
    stream = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True)
    return stream.map(lambda r: tf.stack([tf.cast(r % 2147483647, tf.int32), tf.constant(seed % 2147483647, tf.int32)]))


def _finish(ds, batch_size, drop_remainder, prefetch):
    ds = ds.batch(batch_size, drop_remainder=drop_remainder)
    options = tf.data.Options()
    options.deterministic = True
    ds = ds.with_options(options)
    return ds.prefetch(prefetch)


# ---------------------------------------------------------------- per-row changes
def _row_values(df: pd.DataFrame, column: str, dtype) -> np.ndarray:
    """A per-row option column (missing or NaN: 0, "none")."""
    if column not in df.columns:
        return np.zeros(len(df), dtype)
    values = pd.to_numeric(df[column], errors="coerce").fillna(0).to_numpy()
    if np.any(values < 0):
        raise ValueError(f"make_dataset: column {column!r} must be >= 0 (0 = none)")
    return values.astype(dtype)


def _resize(image: tf.Tensor, side) -> tf.Tensor:
    """``image`` resized to ``side`` x ``side`` (bilinear, antialiased, rounded to uint8); side 0: unchanged."""

    def resized():
        out = tf.image.resize(image, tf.stack([side, side]), method="bilinear", antialias=True)
        return tf.cast(tf.clip_by_value(tf.round(out), 0.0, 255.0), tf.uint8)

    out = tf.cond(side > 0, resized, lambda: image)
    out.set_shape([None, None, 3])
    return out


def _fixed_lightness(ref, dist, factor):
    """Both images' CIE Lab lightness times ``factor`` (0: unchanged)."""
    from .augment import scale_lightness

    def scaled():
        return (dist if ref is None else scale_lightness(ref, factor)), scale_lightness(dist, factor)

    def unchanged():
        return (dist if ref is None else ref), dist

    new_ref, new_dist = tf.cond(factor > 0, scaled, unchanged)
    return (None if ref is None else new_ref), new_dist


# ---------------------------------------------------------------- record tables
def make_dataset(
    df: pd.DataFrame,
    input_size: int,
    batch_size: int,
    *,
    shuffle: bool = False,
    augment=None,
    seed: int = 0,
    crop="center",
    score_norm=None,
    repeat: bool = False,
    training: bool | None = None,
    drop_remainder: bool = False,
    target_columns=None,
    num_parallel_calls=AUTOTUNE,
    prefetch: int = 2,
) -> tf.data.Dataset:
    """A batched, prefetched ``tf.data.Dataset`` of the pairs (or images) of a record table.

    ``augment``: None, True / "geometric" (random rot90 + both flips),
    "seed" (those plus the NTIRE 2021 reference's CIE-Lab lightness factor in [0.3, 1.5]) or
    a dict ``{"rot90", "flip_lr", "flip_ud": bool, "lightness": [low, high] | None}``.
    ``training=False`` turns "random" crops into centre crops.
    ``target_columns`` replaces the standardised MOS by raw columns of the
    table (e.g. AVA's vote_1..vote_10). See the module docstring for crops.
    """
    if len(df) == 0:
        raise ValueError("make_dataset: the record table is empty")
    if int(input_size) <= 0 or int(batch_size) <= 0:
        raise ValueError(f"make_dataset: input_size and batch_size must be positive, got {input_size}, {batch_size}")
    size = int(input_size)
    full_reference = is_full_reference(df)
    options = _augment_options(augment)
    y = normalised_scores(df, score_norm, target_columns)
    codes = _crop_codes(df, crop, training)
    columns = {
        "dist": df["dist"].astype(str).to_numpy(),
        "ref": df["ref"].fillna("").astype(str).to_numpy() if full_reference else np.full(len(df), "", object),
        "y": y,
        "crop": codes,
        "resize": _row_values(df, "resize", np.int32),
        "lightness": _row_values(df, "lightness_factor", np.float32),
    }
    any_resize, any_lightness = bool(columns["resize"].any()), bool(columns["lightness"].any())
    ds = tf.data.Dataset.from_tensor_slices(columns)
    if shuffle:
        ds = ds.shuffle(len(df), seed=seed, reshuffle_each_iteration=True)
    if repeat:
        ds = ds.repeat()
    ds = tf.data.Dataset.zip((ds, _seed_stream(seed)))

    def load(element, element_seed):
        dist = decode_rgb(element["dist"])
        if full_reference:
            ref = decode_rgb(element["ref"])
            same_size = tf.debugging.Assert(
                tf.reduce_all(tf.equal(tf.shape(ref), tf.shape(dist))),
                ["reference and distorted images differ in size:", element["ref"], tf.shape(ref),
                 element["dist"], tf.shape(dist)],
            )
            with tf.control_dependencies([same_size]):
                ref, dist = tf.identity(ref), tf.identity(dist)
            if any_resize:
                ref, dist = (_resize(image, element["resize"]) for image in (ref, dist))
            ref, dist = fit_to_size([ref, dist], size, element["crop"] == 1, element_seed)
        else:
            if any_resize:
                dist = _resize(dist, element["resize"])
            (dist,) = fit_to_size([dist], size, element["crop"] == 1, element_seed)
            ref = None
        ref, dist = _apply_augment(ref, dist, element_seed + tf.constant([0, 1]), options)
        if any_lightness:
            ref, dist = _fixed_lightness(ref, dist, element["lightness"])
        if full_reference:
            return (ref, dist), element["y"]
        return dist, element["y"]

    ds = ds.map(load, num_parallel_calls=num_parallel_calls, deterministic=True)
    return _finish(ds, int(batch_size), drop_remainder, prefetch)
