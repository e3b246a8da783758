"""The embedded synthetic dataset: scikit-image photographs, 7 distortions x 5 levels.

Used whenever a config names no dataset, so that training, tests and demos
run with nothing downloaded. Built once into a cache folder
(``$IQA_KERAS_CACHE`` or ``~/.cache/iqa_keras``, or an explicit
``cache_dir``) under a temporary name that is renamed when complete; the same
seed always gives the same bytes.

Contents (``CONTENTS``): nine colour photographs that ship with the
package's dependencies (no download): eight from scikit-image (astronaut,
chelsea, coffee, rocket, motorcycle (left view of the stereo pair),
hubble_deep_field, retina, immunohistochemistry) and matplotlib's
grace_hopper sample. Each is resized (Lanczos) so that its short side is
1.25 x ``size`` and the ``size`` x ``size`` window (default 288) with the most
texture (mean clipped gradient magnitude, stride 8) is kept, so that random
training crops rarely fall on flat areas where no distortion is visible.

Distortions (``DISTORTIONS``), five levels each, parameters in
``DISTORTION_LEVELS``: Gaussian blur (sigma), white Gaussian noise (std in grey
levels), JPEG (PIL quality), contrast reduction (contrast kept, around the
image's mean grey), down-and-up-sampling (area downsampling by a factor, then
nearest-neighbour upsampling: pixelation), colour cast (a warm cast: red
lifted by d x its headroom to 255, blue scaled by 1 - d, so that dark images
show it too) and impulse (salt-and-pepper) noise (fraction of pixels).

MOS: a clean, documented, monotone function of type and level on the 1-5
scale, with no per-image noise::

    mos(type, level) = 5 - (5 - floor[type]) * (level / 5) ** gamma[type]

(``MOS_CURVES`` holds floor = MOS at level 5 and gamma). ``mos_std`` is a
nominal 0.3 + 0.05 * level (not a measured spread).
"""
from __future__ import annotations

import io
import logging
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

from .records import make_records

logger = logging.getLogger(__name__)

VERSION = 2
DEFAULT_SIZE = 288
CONTENTS = (
    "astronaut",
    "chelsea",
    "coffee",
    "rocket",
    "motorcycle",
    "hubble_deep_field",
    "retina",
    "immunohistochemistry",
    "grace_hopper",
)
_ZOOM = 1.25  # the kept window covers 1 / 1.25 of the photo's short side
DISTORTIONS = (
    "gaussian_blur",
    "white_noise",
    "jpeg",
    "contrast_reduction",
    "down_up_sampling",
    "colour_cast",
    "impulse_noise",
)
DISTORTION_LEVELS = {
    "gaussian_blur": (0.6, 1.2, 2.0, 3.0, 4.5),  # sigma in pixels
    "white_noise": (5.0, 10.0, 16.0, 25.0, 38.0),  # std in grey levels
    "jpeg": (50, 30, 18, 10, 5),  # PIL quality
    "contrast_reduction": (0.8, 0.62, 0.46, 0.32, 0.2),  # contrast kept
    "down_up_sampling": (2, 3, 4, 6, 8),  # downsampling factor
    "colour_cast": (0.06, 0.12, 0.2, 0.3, 0.42),  # red + d * (255 - red), blue * (1 - d)
    "impulse_noise": (0.004, 0.01, 0.02, 0.04, 0.08),  # fraction of pixels
}
MOS_CURVES = {  # (MOS at level 5, gamma)
    "gaussian_blur": (1.3, 1.0),
    "white_noise": (1.5, 0.9),
    "jpeg": (1.4, 1.2),
    "contrast_reduction": (1.9, 1.1),
    "down_up_sampling": (1.6, 1.0),
    "colour_cast": (2.0, 1.0),
    "impulse_noise": (1.7, 0.8),
}
CACHE_ENV = "IQA_KERAS_CACHE"


def synthetic_mos(distortion: str, level: int) -> float:
    """The embedded set's MOS for a distortion type and level 1..5 (higher is better)."""
    floor, gamma = MOS_CURVES[distortion]
    return 5.0 - (5.0 - floor) * (level / 5.0) ** gamma


def default_cache_dir() -> Path:
    """``$IQA_KERAS_CACHE`` when set, else ``~/.cache/iqa_keras``."""
    return Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "iqa_keras")


def _load_photo(name: str) -> np.ndarray:
    from .images import read_image, to_rgb_uint8

    if name == "grace_hopper":
        from matplotlib import cbook

        return read_image(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))
    import skimage.data

    if name == "motorcycle":
        image = skimage.data.stereo_motorcycle()[0]
    else:
        image = getattr(skimage.data, name)()
    return to_rgb_uint8(image, source=f"skimage.data.{name}")


def _square(image: np.ndarray, size: int) -> np.ndarray:
    """Resizes the short side to 1.25 x ``size`` and keeps the most textured square window."""
    h, w = image.shape[:2]
    scale = _ZOOM * size / min(h, w)
    new_w, new_h = max(size, round(w * scale)), max(size, round(h * scale))
    resized = np.asarray(Image.fromarray(image).resize((new_w, new_h), Image.LANCZOS, reducing_gap=3.0))
    grey = resized.astype(np.float64).mean(axis=2)
    texture = np.zeros_like(grey)
    texture[:, 1:] += np.minimum(np.abs(np.diff(grey, axis=1)), 16.0)
    texture[1:, :] += np.minimum(np.abs(np.diff(grey, axis=0)), 16.0)
    integral = np.pad(texture.cumsum(0).cumsum(1), ((1, 0), (1, 0)))
    best, top, left = -1.0, 0, 0
    for y in range(0, new_h - size + 1, 8):
        for x in range(0, new_w - size + 1, 8):
            total = integral[y + size, x + size] - integral[y, x + size] - integral[y + size, x] + integral[y, x]
            if total > best + 1e-9:
                best, top, left = total, y, x
    return np.ascontiguousarray(resized[top:top + size, left:left + size])


def embedded_contents(size: int = DEFAULT_SIZE) -> dict:
    """``{content name: (size, size, 3) uint8}`` for the embedded photographs."""
    return {name: _square(_load_photo(name), size) for name in CONTENTS}


def _to_uint8(x: np.ndarray) -> np.ndarray:
    return np.clip(np.round(x), 0, 255).astype(np.uint8)


def distort(image: np.ndarray, distortion: str, level: int, rng: np.random.Generator) -> np.ndarray:
    """Applies one embedded-set distortion at level 1..5 to an RGB uint8 image."""
    from scipy import ndimage

    p = DISTORTION_LEVELS[distortion][level - 1]
    x = image.astype(np.float64)
    if distortion == "gaussian_blur":
        return _to_uint8(ndimage.gaussian_filter(x, sigma=(p, p, 0), mode="reflect"))
    if distortion == "white_noise":
        return _to_uint8(x + rng.normal(0.0, p, x.shape))
    if distortion == "jpeg":
        buffer = io.BytesIO()
        Image.fromarray(image).save(buffer, format="JPEG", quality=int(p))
        buffer.seek(0)
        with Image.open(buffer) as decoded:
            return np.asarray(decoded.convert("RGB")).copy()
    if distortion == "contrast_reduction":
        mean = x.mean()
        return _to_uint8(mean + p * (x - mean))
    if distortion == "down_up_sampling":
        h, w = image.shape[:2]
        small = Image.fromarray(image).resize((max(1, round(w / p)), max(1, round(h / p))), Image.BOX)
        return np.asarray(small.resize((w, h), Image.NEAREST)).copy()
    if distortion == "colour_cast":
        out = x.copy()
        out[..., 0] += p * (255.0 - x[..., 0])
        out[..., 2] *= 1.0 - p
        return _to_uint8(out)
    if distortion == "impulse_noise":
        out = image.copy()
        hit = rng.random(image.shape[:2]) < p
        salt = rng.random(image.shape[:2]) < 0.5
        out[hit & salt] = 255
        out[hit & ~salt] = 0
        return out
    raise ValueError(f"unknown embedded-set distortion {distortion!r}; known: {', '.join(DISTORTIONS)}")


def _folder_name(size: int, seed: int) -> str:
    return f"embedded_v{VERSION}_s{size}_seed{seed}"


def _write_png(path: Path, image: np.ndarray) -> None:
    Image.fromarray(image).save(path, format="PNG", compress_level=1)


def _generate(folder: Path, size: int, seed: int) -> None:
    from ..utils.progress import ProgressBar

    (folder / "reference").mkdir(parents=True)
    (folder / "distorted").mkdir()
    rows = []
    contents = embedded_contents(size)
    logger.info(f"Building the embedded set ({len(contents)} photos x {len(DISTORTIONS)} distortions x 5 levels, "
                f"{size} px) in {folder.parent}; this happens once, later runs read the cache")
    progress = ProgressBar.for_messages(len(contents) * len(DISTORTIONS) * 5, unit="pairs")
    for index, (name, image) in enumerate(contents.items()):
        _write_png(folder / "reference" / f"{name}.png", image)
        for d_index, distortion in enumerate(DISTORTIONS):
            for level in range(1, 6):
                rng = np.random.default_rng([seed, index, d_index, level])
                file = f"{name}__{distortion}_{level}.png"
                _write_png(folder / "distorted" / file, distort(image, distortion, level, rng))
                rows.append({
                    "dist": f"distorted/{file}", "ref": f"reference/{name}.png",
                    "mos": round(synthetic_mos(distortion, level), 6), "mos_std": 0.3 + 0.05 * level,
                    "content": f"embedded:{name}", "distortion": distortion, "level": level,
                })
                progress.update(len(rows))
    pd.DataFrame(rows).to_csv(folder / "labels.csv", index=False)
    (folder / "README.txt").write_text(
        f"iqa_keras embedded synthetic IQA set v{VERSION} (size {size}, seed {seed}).\n"
        "labels.csv: dist, ref (relative paths), mos (1-5, higher is better), mos_std (nominal),\n"
        "content, distortion, level. mos = 5 - (5 - floor) * (level / 5) ** gamma with\n"
        + "".join(f"  {d}: floor {f}, gamma {g}, parameters {DISTORTION_LEVELS[d]}\n"
                  for d, (f, g) in MOS_CURVES.items())
        + "Reference photographs: scikit-image sample data (see skimage/data/README.txt for licences) and\n"
        "matplotlib's grace_hopper.jpg sample (mpl-data/sample_data).\n",
        encoding="utf-8",
    )


def build_embedded(cache_dir=None, size: int = DEFAULT_SIZE, seed: int = 0) -> Path:
    """The folder of the embedded set, generated on first use; returns its path."""
    if size < 16:
        raise ValueError(f"embedded set size must be at least 16 pixels, got {size}")
    root = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    folder = root / _folder_name(size, seed)
    if (folder / "labels.csv").is_file():
        return folder
    root.mkdir(parents=True, exist_ok=True)
    temporary = Path(tempfile.mkdtemp(prefix=f".{folder.name}.tmp-", dir=root))
    try:
        shutil.rmtree(temporary)
        _generate(temporary, size, seed)
        try:
            os.rename(temporary, folder)
        except OSError:
            if not (folder / "labels.csv").is_file():  # not a concurrent builder finishing first
                raise
    finally:
        if temporary.exists():
            shutil.rmtree(temporary, ignore_errors=True)
    return folder


def _subset(values, known, option: str) -> list:
    values = [values] if isinstance(values, str) else list(values)
    unknown = [v for v in values if v not in known]
    if unknown or not values:
        raise ValueError(f"embedded set: {option}: expected a non-empty list of {', '.join(known)}; "
                         f"got {unknown or values}")
    return values


def _mos_polynomial(coefficients) -> np.polynomial.Polynomial:
    """``mos_map`` as a polynomial, checked to be strictly increasing on the embedded MOS range [1, 5]."""
    try:
        polynomial = np.polynomial.Polynomial(np.asarray(coefficients, dtype=float).reshape(-1))
    except (TypeError, ValueError):
        polynomial = None
    if polynomial is None or not np.isfinite(polynomial.coef).all() or len(polynomial.coef) == 0:
        raise ValueError(f"embedded set: mos_map: expected polynomial coefficients [c0, c1, ...], got {coefficients!r}")
    grid = np.linspace(1.0, 5.0, 401)
    if not np.all(np.diff(polynomial(grid)) > 0):
        raise ValueError(f"embedded set: mos_map: {list(polynomial.coef)} is not strictly increasing on the "
                         "MOS range [1, 5]; a rescaled dataset must keep the quality order")
    return polynomial


def read_embedded(root=None, cache_dir=None, size: int = DEFAULT_SIZE, seed: int = 0, contents=None,
                  distortions=None, mos_map=None) -> pd.DataFrame:
    """Record table of the embedded set (``root`` or ``cache_dir``: the cache folder).

    Options that turn the one synthetic set into several "datasets" with their
    own scales (multi-dataset and bias-aware training without downloads):
    ``contents`` / ``distortions``: keep only these (names from ``CONTENTS`` /
    ``DISTORTIONS``); ``mos_map``: polynomial coefficients ``[c0, c1, c2, ...]``
    (lowest degree first) applied to every MOS, ``mos' = c0 + c1 mos + c2 mos^2 + ...``,
    which must be strictly increasing on [1, 5] (a dataset that rates the same
    quality on another scale, not in another order); ``mos_std`` is multiplied
    by the map's slope at that MOS. The images and the cache are unchanged.
    """
    folder = build_embedded(cache_dir if cache_dir is not None else root, size=size, seed=seed)
    labels = pd.read_csv(folder / "labels.csv")
    labels["dist"] = [str(folder / p) for p in labels["dist"]]
    labels["ref"] = [str(folder / p) for p in labels["ref"]]
    if contents is not None:
        keep = {f"embedded:{name}" for name in _subset(contents, CONTENTS, "contents")}
        labels = labels[labels["content"].isin(keep)]
    if distortions is not None:
        labels = labels[labels["distortion"].isin(_subset(distortions, DISTORTIONS, "distortions"))]
    if mos_map is not None:
        polynomial = _mos_polynomial(mos_map)
        mos = labels["mos"].to_numpy(dtype=float)
        labels = labels.assign(mos=polynomial(mos), mos_std=labels["mos_std"] * polynomial.deriv()(mos))
    return make_records(labels.reset_index(drop=True), db="embedded")
