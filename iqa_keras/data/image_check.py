"""Decoding every image of a dataset once before training, with the verdicts cached.

A truncated JPEG or a reference whose size differs from its distorted image
would otherwise stop a run in the middle of an epoch with a TensorFlow error
that names no file. :func:`check_images` decodes each image with the very
decoder the training pipeline uses (``pipeline.decode_rgb``: TensorFlow's
PNG/JPEG/BMP decoders, Pillow for the rest and for EXIF-oriented JPEGs), so
an image that passes here cannot fail there, and records its size (after the
EXIF orientation) for the reference/distorted size check.

Decoding a large dataset takes about as long as one epoch's decoding, so
the verdicts (size, or the error) are cached per image folder in
``<cache>/image_checks/``, keyed by the file's size and modification time: a
rerun decodes only new or changed files. The cache is advisory: a missing,
unreadable or outdated cache file only means decoding again.
:func:`check_record_images` turns the verdicts into one error naming each
bad row by its label file and line (``records.record_names``).
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
from pathlib import Path

from .records import raise_problems, record_names

logger = logging.getLogger(__name__)

CHECK_VERSION = 1  # bump when decoding changes (an old verdict may no longer hold)
CACHE_FOLDER = "image_checks"
_PROGRESS_FROM = 500  # report progress when at least this many images need decoding


@dataclasses.dataclass(frozen=True)
class ImageVerdict:
    """What decoding one image gave: its size, or why it cannot be used."""

    height: int = 0
    width: int = 0
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def default_check_cache(cache_dir=None) -> Path:
    """``<cache_dir>/image_checks``; the package cache (``$IQA_KERAS_CACHE`` or ``~/.cache/iqa_keras``) by default."""
    if cache_dir is None:
        from .synthetic import default_cache_dir

        cache_dir = default_cache_dir()
    return Path(cache_dir) / CACHE_FOLDER


def _cache_file(cache: Path, folder: str) -> Path:
    return cache / (hashlib.sha256(folder.encode("utf-8")).hexdigest()[:24] + ".json")


def _load_folder(cache: Path, folder: str) -> dict:
    try:
        stored = json.loads(_cache_file(cache, folder).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if stored.get("version") != CHECK_VERSION or stored.get("folder") != folder:
        return {}
    return stored.get("files", {})


def _save_folder(cache: Path, folder: str, files: dict) -> None:
    from ..utils.atomic import atomic_write_text

    text = json.dumps({"version": CHECK_VERSION, "folder": folder, "files": files})
    try:
        atomic_write_text(_cache_file(cache, folder), text)
    except OSError as error:  # a read-only cache costs time on the next run, nothing else
        logger.warning(f"image-check cache not written ({error})")


def _error_text(error: BaseException) -> str:
    message = getattr(error, "message", None) or str(error)
    message = message.split("}}")[-1]  # TensorFlow's "{{function_node ...}}" prefix
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    return lines[0].removesuffix("[Op:DecodeJpeg]").strip() if lines else type(error).__name__


def _decode(paths: list[str]) -> dict[str, ImageVerdict]:
    """Decodes ``paths`` in parallel with the pipeline's decoder; a verdict per path."""
    import tensorflow as tf

    from .pipeline import decode_rgb

    def size(path):
        return path, tf.shape(decode_rgb(path))[:2]

    dataset = tf.data.Dataset.from_tensor_slices(paths).map(
        size, num_parallel_calls=tf.data.AUTOTUNE, deterministic=False).ignore_errors()
    progress = None
    if len(paths) >= _PROGRESS_FROM:
        from ..utils.progress import ProgressBar

        logger.info(f"Checking {len(paths)} images (each is decoded once; the verdicts are cached)")
        progress = ProgressBar.for_messages(len(paths), unit="images")
    verdicts = {}
    for path, (height, width) in dataset.as_numpy_iterator():
        verdicts[path.decode("utf-8")] = ImageVerdict(int(height), int(width))
        if progress is not None:
            progress.update(len(verdicts))
    for path in paths:  # the few that failed, once more one by one for their error message
        if path not in verdicts:
            try:
                decode_rgb(tf.constant(path))
                verdicts[path] = ImageVerdict(error="could not be decoded in the pipeline")
            except Exception as error:  # noqa: BLE001 - TensorFlow and Pillow raise many kinds
                verdicts[path] = ImageVerdict(error=f"cannot be decoded: {_error_text(error)}")
    if progress is not None:
        progress.update(len(paths))
    return verdicts


def check_images(paths, cache_dir=None, use_cache: bool = True) -> dict[str, ImageVerdict]:
    """``{path: ImageVerdict}`` for every distinct path, each image decoded at most once.

    ``cache_dir``: where the ``image_checks`` cache goes (see
    :func:`default_check_cache`); ``use_cache=False`` decodes everything and
    stores nothing. A missing file is a verdict too ("file not found").
    """
    paths = list(dict.fromkeys(os.path.abspath(os.fspath(p)) for p in paths if p))
    cache = default_check_cache(cache_dir) if use_cache else None
    verdicts, stats, folders = {}, {}, {}
    for path in paths:
        try:
            stat = os.stat(path)
        except OSError:
            verdicts[path] = ImageVerdict(error="file not found")
            continue
        if not os.path.isfile(path):
            verdicts[path] = ImageVerdict(error="not a file")
            continue
        stats[path] = [stat.st_size, stat.st_mtime_ns]
        folders.setdefault(os.path.dirname(path), []).append(path)
    stored = {folder: _load_folder(cache, folder) for folder in folders} if cache is not None else {}
    to_decode = []
    for folder, members in folders.items():
        known = stored.get(folder, {})
        for path in members:
            entry = known.get(os.path.basename(path))
            if entry is not None and entry[:2] == stats[path]:
                verdicts[path] = ImageVerdict(entry[2], entry[3], entry[4])
            else:
                to_decode.append(path)
    if to_decode:
        verdicts.update(_decode(to_decode))
        if cache is not None:
            changed = {os.path.dirname(path) for path in to_decode}
            for folder in changed:
                files = stored.get(folder, {})
                for path in folders[folder]:
                    verdict = verdicts[path]
                    files[os.path.basename(path)] = [*stats[path], verdict.height, verdict.width, verdict.error]
                _save_folder(cache, folder, files)
    return verdicts


def check_record_images(df, cache_dir=None, check_sizes: bool = True, use_cache: bool = True) -> None:
    """Decodes every image of a record table once (see :func:`check_images`); raises ValueError naming bad rows.

    A row is bad when an image is missing or cannot be decoded, or (with
    ``check_sizes``, for full-reference rows) when its reference and
    distorted image differ in size. Each broken file is reported once.
    """
    names = record_names(df)
    dist = df["dist"].fillna("").astype(str).tolist()
    ref = df["ref"].fillna("").astype(str).tolist() if "ref" in df.columns else [""] * len(df)
    verdicts = check_images([*dist, *ref], cache_dir=cache_dir, use_cache=use_cache)
    problems, reported = [], set()
    for row, name in enumerate(names):
        ok = True
        for column, path in (("dist", dist[row]), ("ref", ref[row])):
            if not path:
                continue
            verdict = verdicts[os.path.abspath(path)]
            ok = ok and verdict.ok
            if not verdict.ok and path not in reported:
                reported.add(path)
                problems.append(f"{name}: {column} image {path}: {verdict.error}")
        if ok and check_sizes and dist[row] and ref[row]:
            a, b = verdicts[os.path.abspath(ref[row])], verdicts[os.path.abspath(dist[row])]
            if (a.height, a.width) != (b.height, b.width):
                problems.append(f"{name}: reference {ref[row]} is {a.width}x{a.height} but distorted {dist[row]} is "
                                f"{b.width}x{b.height} (width x height); a pair must have one size")
    raise_problems(problems)
