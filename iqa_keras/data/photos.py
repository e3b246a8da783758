"""The ``photos`` dataset source: any folder of clean photographs becomes FR training pairs.

Each photo is resized (Lanczos, never enlarged) so that its short side is
``photo_size`` pixels, the ``crops_per_photo`` most textured, little-overlapping
``crop_size`` windows are kept as references, and every reference is distorted
by each chosen type of the distortion zoo (``iqa_keras.data.distortions``) at
each chosen level. The pairs are written once into a cache folder (named by a
hash of the photos and the options, built under a temporary name and renamed
when complete); the same photos and options always give the same bytes.

The score column (``label``):

* ``"formula"``: a fixed monotone function of type and level,
  ``5 - (5 - floor) * (level / 5) ** gamma`` (``FORMULA_CURVES``); it knows
  nothing of the content, so it cannot teach content masking.
* a classical full-reference metric name (``"gmsd"``, ``"vif"``, ...), or a
  weighted ensemble ``{gmsd = 0.5, vif = 0.5}`` (which may also name
  ``formula``, to keep a share of the type/level prior where the metrics are
  blind, e.g. to a mean shift): each metric is computed on
  every pair (cached per metric), oriented so that higher is better and mapped
  linearly onto the formula's 1-5 scale by least squares (``calibrate =
  "pooled"``, one map for all types, which keeps the metric's own judgement of
  how bad one type is against another; or ``"per_type"``, one map per type,
  which takes the across-type scale from the formula and only the within-type
  order, content masking included, from the metric). The weighted mean of the
  calibrated metrics is the score (the weak labels of KADIS-700k/DeepFL-IQA).

Contents are the photo names, so the usual content-disjoint splits hold every
crop of a photo on the same side.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

from ..registry import FR_METRICS
from .images import is_image_file, read_image
from .records import make_records

logger = logging.getLogger(__name__)

VERSION = 1
LEVELS = (1, 2, 3, 4, 5)
DEFAULT_FLOOR, DEFAULT_GAMMA = 1.5, 1.0
FORMULA_CURVES = {  # (score at level 5, gamma); types not listed use (DEFAULT_FLOOR, DEFAULT_GAMMA)
    "gaussian_blur": (1.3, 1.0),
    "white_noise": (1.5, 0.9),
    "jpeg": (1.4, 1.2),
    "contrast_change": (1.9, 1.1),
    "pixelate": (1.6, 1.0),
    "colour_shift": (2.0, 1.0),
    "impulse_noise": (1.7, 0.8),
}
CALIBRATIONS = ("pooled", "per_type")
CACHE_ENV = "IQA_KERAS_CACHE"


def formula_score(distortion: str, level: int) -> float:
    """The ``formula`` label of a type and level 1..5 (higher is better; level 0, pristine, is 5)."""
    floor, gamma = FORMULA_CURVES.get(distortion, (DEFAULT_FLOOR, DEFAULT_GAMMA))
    return 5.0 - (5.0 - floor) * (level / 5.0) ** gamma


def list_photos(root) -> list[Path]:
    """The image files directly inside ``root``, sorted by name."""
    folder = Path(root).expanduser()
    if not folder.is_dir():
        raise ValueError(f"photos dataset: root {folder} is not a folder of photographs")
    photos = sorted(p for p in folder.iterdir() if p.is_file() and is_image_file(p.name))
    if not photos:
        raise ValueError(f"photos dataset: no image files in {folder}")
    return photos


def resize_short_side(image: np.ndarray, short_side: int) -> np.ndarray:
    """Lanczos downscaling to ``short_side`` (an image already smaller is kept as it is)."""
    h, w = image.shape[:2]
    if min(h, w) <= short_side:
        return image
    scale = short_side / min(h, w)
    size = (max(short_side, round(w * scale)), max(short_side, round(h * scale)))
    return np.asarray(Image.fromarray(image).resize(size, Image.LANCZOS, reducing_gap=3.0))


def textured_windows(image: np.ndarray, size: int, count: int, stride: int = 8, max_overlap: float = 0.25):
    """Top-left corners of up to ``count`` ``size`` windows with the most texture.

    Texture is the mean clipped gradient magnitude, so flat sky or walls, where
    no distortion is visible, are avoided; windows are picked greedily, each
    overlapping every earlier one by at most ``max_overlap`` of its area.
    """
    h, w = image.shape[:2]
    if min(h, w) < size:
        raise ValueError(f"photos dataset: a {w} x {h} photo is smaller than crop_size {size}")
    grey = image.astype(np.float64).mean(axis=2)
    texture = np.zeros_like(grey)
    texture[:, 1:] += np.minimum(np.abs(np.diff(grey, axis=1)), 16.0)
    texture[1:, :] += np.minimum(np.abs(np.diff(grey, axis=0)), 16.0)
    integral = np.pad(texture.cumsum(0).cumsum(1), ((1, 0), (1, 0)))
    tops = np.arange(0, h - size + 1, stride)
    lefts = np.arange(0, w - size + 1, stride)
    y, x = np.meshgrid(tops, lefts, indexing="ij")
    totals = integral[y + size, x + size] - integral[y, x + size] - integral[y + size, x] + integral[y, x]
    chosen = []
    for flat in np.argsort(-totals, axis=None, kind="stable"):
        top, left = int(y.flat[flat]), int(x.flat[flat])
        if all(max(0, size - abs(top - t)) * max(0, size - abs(left - s)) <= max_overlap * size * size
               for t, s in chosen):
            chosen.append((top, left))
            if len(chosen) == count:
                break
    return chosen


def _check_options(photo_size, crop_size, crops_per_photo, distortions, levels):
    from .distortions import DISTORTION_TYPES

    if int(crop_size) < 32 or int(photo_size) < int(crop_size):
        raise ValueError(f"photos dataset: expected 32 <= crop_size <= photo_size, got crop_size {crop_size}, "
                         f"photo_size {photo_size}")
    if int(crops_per_photo) < 1:
        raise ValueError(f"photos dataset: crops_per_photo must be at least 1, got {crops_per_photo}")
    distortions = list(DISTORTION_TYPES) if distortions is None else \
        ([distortions] if isinstance(distortions, str) else list(distortions))
    unknown = [d for d in distortions if d not in DISTORTION_TYPES]
    if unknown or not distortions:
        raise ValueError(f"photos dataset: distortions: unknown {unknown or distortions}; known: "
                         f"{', '.join(DISTORTION_TYPES)}")
    levels = list(LEVELS) if levels is None else [levels] if isinstance(levels, int) else list(levels)
    if not levels or any(level not in LEVELS for level in levels):
        raise ValueError(f"photos dataset: levels must be a non-empty list of 1..5, got {levels}")
    return int(photo_size), int(crop_size), int(crops_per_photo), distortions, sorted(set(levels))


def _zoo_fingerprint() -> str:
    """A hash of the distortion zoo's source files: pairs made by an older zoo are never reused."""
    from . import distortions

    digest = hashlib.sha256()
    for path in sorted(Path(distortions.__file__).parent.glob("*.py")):
        digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()


def _cache_key(photos, options: dict) -> str:
    """Contents of the photos (not their times, so a copied corpus reuses the cache), the zoo and the options."""
    fingerprint = [(p.name, hashlib.sha256(p.read_bytes()).hexdigest()) for p in photos]
    text = json.dumps({"version": VERSION, "zoo": _zoo_fingerprint(), "photos": fingerprint, **options},
                      sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _write_png(path: Path, image: np.ndarray) -> None:
    Image.fromarray(image).save(path, format="PNG", compress_level=1)


def _generate(folder: Path, photos, photo_size, crop_size, crops_per_photo, distortions, levels, seed,
              progress=None) -> None:
    from .distortions import DISTORTION_TYPES, distort

    if progress is None:  # the default: a line, then a progress bar on stderr
        from ..utils.progress import ProgressBar

        logger.info(f"Building the pairs of {len(photos)} photographs ({crops_per_photo} crops each, "
                    f"{len(distortions)} distortions x {len(levels)} levels) in {folder.parent}; this happens "
                    "once, later runs read the cache")
        bar = ProgressBar.for_messages(len(photos), unit="photos")

        def progress(done, total):
            bar.update(done)

    (folder / "reference").mkdir(parents=True)
    (folder / "distorted").mkdir()
    rows = []
    for p_index, photo in enumerate(photos):
        image = resize_short_side(read_image(photo), photo_size)
        for c_index, (top, left) in enumerate(textured_windows(image, crop_size, crops_per_photo)):
            crop = np.ascontiguousarray(image[top:top + crop_size, left:left + crop_size])
            ref_name = f"{photo.stem}__c{c_index}.png"
            _write_png(folder / "reference" / ref_name, crop)
            for distortion in distortions:
                for level in levels:
                    rng = np.random.default_rng([seed, p_index, c_index, DISTORTION_TYPES.index(distortion), level])
                    file = f"{photo.stem}__c{c_index}__{distortion}_{level}.png"
                    _write_png(folder / "distorted" / file, distort(crop, distortion, level, rng))
                    rows.append({"dist": f"distorted/{file}", "ref": f"reference/{ref_name}",
                                 "content": f"photos:{photo.stem}", "distortion": distortion, "level": level,
                                 "crop": c_index})
        if progress is not None:
            progress(p_index + 1, len(photos))
    pd.DataFrame(rows).to_csv(folder / "pairs.csv", index=False)


def default_cache_dir() -> Path:
    """``$IQA_KERAS_CACHE`` when set, else ``~/.cache/iqa_keras``; the embedded set, built on this source, shares it."""
    return Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "iqa_keras")


def build_photo_pairs(root, cache_dir=None, photo_size: int = 512, crop_size: int = 192,
                      crops_per_photo: int = 4, distortions=None, levels=None, seed: int = 0,
                      progress=None) -> Path:
    """The cache folder of the pairs made from the photos in ``root`` (built on first use)."""
    photos = list_photos(root)
    photo_size, crop_size, crops_per_photo, distortions, levels = _check_options(
        photo_size, crop_size, crops_per_photo, distortions, levels)
    options = {"photo_size": photo_size, "crop_size": crop_size, "crops_per_photo": crops_per_photo,
               "distortions": distortions, "levels": levels, "seed": int(seed)}
    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    folder = cache / f"photos_v{VERSION}_{_cache_key(photos, options)}"
    if (folder / "pairs.csv").is_file():
        return folder
    cache.mkdir(parents=True, exist_ok=True)
    temporary = Path(tempfile.mkdtemp(prefix=f".{folder.name}.tmp-", dir=cache))
    try:
        shutil.rmtree(temporary)
        _generate(temporary, photos, photo_size, crop_size, crops_per_photo, distortions, levels, int(seed),
                  progress)
        (temporary / "options.json").write_text(
            json.dumps({"root": str(Path(root).resolve()), "photos": [p.name for p in photos], **options},
                       indent=2), encoding="utf-8")
        try:
            os.rename(temporary, folder)
        except OSError:
            if not (folder / "pairs.csv").is_file():
                raise
    finally:
        if temporary.exists():
            shutil.rmtree(temporary, ignore_errors=True)
    return folder


def cache_metrics(folder: Path, names, batch_size: int = 16) -> None:
    """Computes the metrics ``names`` not yet cached for a photo-pair folder, reading each image once.

    Every pair of the folder and every reference against itself are scored;
    each metric's values go to ``metric_NAME.csv`` beside the pairs.
    """
    from ..metrics.classical import compute_metric

    missing = [name for name in dict.fromkeys(names) if not (folder / f"metric_{name}.csv").is_file()]
    if not missing:
        return
    from ..utils.progress import ProgressBar

    everything = with_pristine(pd.read_csv(folder / "pairs.csv"))
    values = {name: np.empty(len(everything)) for name in missing}
    logger.info(f"Computing {', '.join(missing)} on the {len(everything)} pairs of {folder.name}; "
                "this happens once, the values are cached beside the pairs")
    progress = ProgressBar.for_messages(len(everything), unit="pairs")
    for start in range(0, len(everything), batch_size):
        chunk = everything.iloc[start:start + batch_size]
        refs = np.stack([read_image(folder / p) for p in chunk["ref"]])
        dists = np.stack([read_image(folder / p) for p in chunk["dist"]])
        for name in missing:
            values[name][start:start + len(chunk)] = compute_metric(name, refs, dists, batch_size=batch_size)
        progress.update(start + len(chunk))
    for name in missing:
        with tempfile.NamedTemporaryFile("w", dir=folder, prefix=".tmp-", suffix=".csv", delete=False) as handle:
            temporary = Path(handle.name)
        pd.DataFrame({"ref": everything["ref"], "dist": everything["dist"], "value": values[name]}).to_csv(
            temporary, index=False)
        temporary.replace(folder / f"metric_{name}.csv")


def metric_values(folder: Path, pairs: pd.DataFrame, name: str) -> np.ndarray:
    """Metric ``name`` on each row of ``pairs`` (relative paths in a photo-pair folder), from its cache."""
    cache_metrics(folder, [name])
    file = folder / f"metric_{name}.csv"
    cached = pd.read_csv(file)
    lookup = dict(zip(zip(cached["ref"], cached["dist"]), cached["value"]))
    missing = [d for r, d in zip(pairs["ref"], pairs["dist"]) if (r, d) not in lookup]
    if missing:
        raise ValueError(f"photos dataset: {file} lacks {len(missing)} pairs (e.g. {missing[0]}); delete it to "
                         "recompute")
    return np.array([lookup[(r, d)] for r, d in zip(pairs["ref"], pairs["dist"])], dtype=np.float64)


def _label_weights(label) -> dict:
    from ..metrics import classical  # noqa: F401  (registers the metrics)

    weights = {label: 1.0} if isinstance(label, str) else dict(label)
    unknown = [name for name in weights if name not in FR_METRICS and name != "formula"]
    bad = [name for name, w in weights.items() if not isinstance(w, (int, float)) or w < 0]
    if unknown or bad or not weights or sum(weights.values()) <= 0:
        raise ValueError(f"photos dataset: label: expected \"formula\", a metric name or {{metric = weight}} with "
                         f"non-negative weights; metrics: {', '.join(FR_METRICS.names())}; got {label!r}")
    return {name: float(w) for name, w in weights.items() if w > 0}


def fit_label_map(values: np.ndarray, targets: np.ndarray) -> tuple[float, float]:
    """``(slope, intercept)`` of the least-squares line from oriented metric values to formula scores.

    The slope is kept positive, so the map never reverses the metric's order.
    """
    values, targets = np.asarray(values, dtype=np.float64), np.asarray(targets, dtype=np.float64)
    spread = values.std()
    slope = 0.0 if spread == 0 else max(np.cov(values, targets, bias=True)[0, 1] / spread ** 2, 1e-12)
    return float(slope), float(targets.mean() - slope * values.mean())


def _calibrate(values: np.ndarray, targets: np.ndarray) -> np.ndarray:
    slope, intercept = fit_label_map(values, targets)
    return intercept + slope * values


def photo_labels(folder: Path, pairs: pd.DataFrame, label="formula", calibrate: str = "pooled") -> np.ndarray:
    """The score column of ``pairs`` for a ``label`` spec (see the module docstring)."""
    formula = np.array([formula_score(d, int(v)) for d, v in zip(pairs["distortion"], pairs["level"])])
    if isinstance(label, str) and label == "formula":
        return formula
    if calibrate not in CALIBRATIONS:
        raise ValueError(f"photos dataset: calibrate must be one of {', '.join(CALIBRATIONS)}, got {calibrate!r}")
    weights = _label_weights(label)
    cache_metrics(folder, [name for name in weights if name != "formula"])
    total = np.zeros(len(pairs))
    for name, weight in weights.items():
        if name == "formula":
            total += weight * formula
            continue
        values = metric_values(folder, pairs, name)
        if not np.isfinite(values).all():
            raise ValueError(f"photos dataset: metric {name} gave non-finite values on {folder}")
        oriented = values if FR_METRICS.get(name).higher_is_better else -values
        calibrated = np.empty(len(pairs))
        groups = pairs.groupby("distortion").indices if calibrate == "per_type" else {"all": np.arange(len(pairs))}
        for index in groups.values():
            calibrated[index] = _calibrate(oriented[index], formula[index])
        total += weight * calibrated
    return total / sum(weights.values())


def with_pristine(pairs: pd.DataFrame) -> pd.DataFrame:
    """``pairs`` plus one row per reference scored against itself (distortion ``pristine``, level 0)."""
    refs = pairs.drop_duplicates("ref")
    pristine = refs.assign(dist=refs["ref"], distortion="pristine", level=0)
    return pd.concat([pairs, pristine], ignore_index=True)


def read_photos(root=None, cache_dir=None, photo_size: int = 512, crop_size: int = 192, crops_per_photo: int = 4,
                distortions=None, levels=None, seed: int = 0, label="formula", calibrate: str = "pooled",
                include_pristine: bool = False, reference: bool = True, subset=None, progress=None) -> pd.DataFrame:
    """Record table of the pairs made from the photos in ``root`` (the ``photos`` dataset source).

    ``include_pristine`` adds each reference as its own distorted image
    (formula score 5; metric labels from the identical pair), which teaches a
    model where "no visible distortion" lies; ``reference = false`` drops the
    reference column, turning the set into a no-reference one (for training a
    no-reference model on the same labels). ``subset`` keeps only these
    distortion types of the built pairs (pristine rows stay); unlike
    ``distortions`` it reuses the pairs and metric caches of the full set, and
    the labels' calibration is still fitted on every pair, so a subset's labels
    equal the full set's.
    """
    if root is None:
        raise ValueError("photos dataset: set root = \"FOLDER\" (a folder of clean photographs)")
    if not (isinstance(label, str) and label == "formula"):
        _label_weights(label)  # fail before the pairs are built
    folder = build_photo_pairs(root, cache_dir, photo_size, crop_size, crops_per_photo, distortions, levels,
                               seed, progress)
    pairs = pd.read_csv(folder / "pairs.csv")
    if include_pristine:
        pairs = with_pristine(pairs)
    scores = photo_labels(folder, pairs, label, calibrate)
    if subset is not None:
        subset = [subset] if isinstance(subset, str) else list(subset)
        built = set(pairs["distortion"])
        unknown = [d for d in subset if d not in built]
        if unknown or not subset:
            raise ValueError(f"photos dataset: subset: {unknown or subset} not among the built types "
                             f"({', '.join(sorted(built - {'pristine'}))})")
        keep = pairs["distortion"].isin(list(subset) + ["pristine"]).to_numpy()
        pairs, scores = pairs[keep].reset_index(drop=True), scores[keep]
    table = pairs.assign(mos=np.round(scores, 6), mos_std=np.nan,
                         dist=[str(folder / p) for p in pairs["dist"]], ref=[str(folder / p) for p in pairs["ref"]])
    if not reference:
        table = table.assign(ref="")
    return make_records(table, db="photos")
