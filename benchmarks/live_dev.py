#!/usr/bin/env python3
"""LIVE development check: SRCC against human DMOS on LIVE Release 2's Gaussian-blur and white-noise images.

The 290 distorted images (145 blurred, 145 noisy) are rebuilt from the 29
reference images with LIVE's own parameter tables, then scored by every
classical full-reference metric (``iqa_keras.metrics.classical``) and by any
``.keras`` models given; the script prints Spearman's rank correlation
(``scipy.stats.spearmanr``) with the DMOS per distortion type and pooled over
the 290 pairs.

Signs: DMOS is lower-is-better, so each SRCC is computed against ``-DMOS``
for scores where higher is better and against ``DMOS`` for the others (GMSD,
lower-is-better models). A positive figure means agreement with people for
every metric, as in the published tables.

How the images are rebuilt (LIVE's README: "R, G and B components were
filtered using a circular-symmetric 2-D Gaussian kernel of standard deviation
sigma_B"; "white Gaussian noise of standard deviation sigma_N was added to
the RGB components after scaling them to [0, 1]"):

* blur: MATLAB-style ``fspecial('gaussian', k, sigma)`` (a Gaussian sampled
  at integer offsets, truncated to ``k x k`` and normalised to sum 1), with
  ``k = 2 ceil(3 sigma) + 1`` by default (``--blur-truncate``: the half-width
  in sigmas; 3 keeps 99.7 % of the mass, so the truncation hardly matters),
  applied to each channel with zero borders (``imfilter``'s default, which
  darkens a band along the edges of strongly blurred images), rounded to
  uint8 as imfilter does on uint8 images. LIVE does not say which kernel
  size or border it used; the zero border is the one that reproduces the
  published figures: PSNR's SRCC on blur is 0.782 with it (on RGB or on
  luma alike) against 0.7823 in Sheikh, Sabir & Bovik's 2006 evaluation,
  but 0.751 with mirrored borders (``--blur-border symmetric``). The kernel
  size hardly matters (``--blur-truncate 4``: the same figures to 1e-4);
* noise: ``N(0, sigma^2)`` added independently to every R, G, B sample of
  the image scaled to [0, 1], clipped to [0, 1], then ``round(255 x)``. The
  noise is seeded (``--seed``) per image, so the check is repeatable; other
  seeds move the figures by a few ten-thousandths.

The images stay in memory, one reference (and its ten distorted versions) at
a time; nothing is written except the ``--json`` file.

    python benchmarks/live_dev.py [--shared PATH] [--metrics ssim gmsd ...] [--models M.keras ...]
                                  [--json OUT.json] [--seed 0]
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
TYPES = ("gblur", "wn")
BORDERS = {"symmetric": "reflect", "replicate": "nearest", "zero": "constant"}  # MATLAB name -> scipy mode


# ------------------------------------------------------------------ the human-rated set
def read_table(path: Path, kind: str) -> list[dict]:
    """LIVE parameter table: one ``reference distorted parameter`` line per distorted image."""
    rows = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        fields = line.split()
        if len(fields) != 3:
            raise ValueError(f"{path}, line {number}: expected 'reference distorted parameter', got {line!r}")
        rows.append({"type": kind, "reference": fields[0], "name": fields[1], "parameter": float(fields[2])})
    return rows


def read_dmos(csv_path: Path) -> dict[str, float]:
    """``"<type>/<name>"`` -> DMOS of LIVE Release 2 (the ``mos`` column of the ``live_iqa`` rows)."""
    import pandas as pd

    table = pd.read_csv(csv_path)
    live = table[table["db"] == "live_iqa"]
    prefix = "LIVE IQA R2/"
    return {row.deg_file[len(prefix):]: float(row.mos) for row in live.itertuples() if row.deg_file.startswith(prefix)}


def load_items(shared: Path) -> list[dict]:
    dev = shared / "data" / "live_dev"
    for needed in (dev / "gblur.txt", dev / "wn.txt", shared / "data" / "bias_loss_image_datasets.csv",
                   shared / "data" / "live_refimgs"):
        if not needed.exists():
            raise SystemExit(f"live_dev: {needed} not found (pass --shared PATH, the folder holding data/)")
    dmos = read_dmos(shared / "data" / "bias_loss_image_datasets.csv")
    items = []
    for kind in TYPES:
        for row in read_table(dev / f"{kind}.txt", kind):
            key = f"{kind}/{row['name']}"
            if key not in dmos:
                raise SystemExit(f"live_dev: no DMOS for LIVE IQA R2/{key} in bias_loss_image_datasets.csv")
            row["dmos"] = dmos[key]
            items.append(row)
    return items


# ------------------------------------------------------------------ rebuilding the distortions
def gaussian_blur(image: np.ndarray, sigma: float, truncate: float = 3.0, border: str = "zero") -> np.ndarray:
    """LIVE's blur: a ``(2 ceil(truncate sigma) + 1)``-tap sampled Gaussian (normalised) on each channel, uint8."""
    from scipy import ndimage

    radius = max(1, int(math.ceil(truncate * sigma)))
    offsets = np.arange(-radius, radius + 1, dtype=np.float64)
    taps = np.exp(-(offsets**2) / (2.0 * sigma**2))
    taps /= taps.sum()
    out = image.astype(np.float64)
    mode = BORDERS[border]
    out = ndimage.correlate1d(out, taps, axis=0, mode=mode, cval=0.0)
    out = ndimage.correlate1d(out, taps, axis=1, mode=mode, cval=0.0)
    return np.clip(np.round(out), 0, 255).astype(np.uint8)


def white_noise(image: np.ndarray, sigma: float, rng: np.random.Generator) -> np.ndarray:
    """LIVE's noise: ``N(0, sigma^2)`` on the [0, 1] image, clipped, quantised to uint8."""
    noisy = image.astype(np.float64) / 255.0 + rng.normal(0.0, sigma, image.shape)
    return np.round(np.clip(noisy, 0.0, 1.0) * 255.0).astype(np.uint8)


def distort(reference: np.ndarray, item: dict, index: int, args) -> np.ndarray:
    if item["type"] == "gblur":
        return gaussian_blur(reference, item["parameter"], args.blur_truncate, args.blur_border)
    return white_noise(reference, item["parameter"], np.random.default_rng([args.seed, index]))


# ------------------------------------------------------------------ scoring
def spearman_agreement(scores, dmos, higher_is_better: bool) -> float:
    from scipy import stats

    target = -np.asarray(dmos) if higher_is_better else np.asarray(dmos)
    return float(stats.spearmanr(scores, target).statistic)


def load_scorers(paths: list[str], pooling: str | None = None) -> list[tuple[str, object]]:
    from iqa_keras.scoring import Scorer
    from iqa_keras.scoring.scorer import single_model_path

    scorers = []
    for path in paths:
        model_path = single_model_path(path)
        if not model_path.is_file():
            raise SystemExit(f"live_dev: model not found: {model_path} (a .keras file, or a run folder holding "
                             f"best.keras)")
        scorers.append((os.fspath(path), Scorer(model_path, pooling=pooling)))
    return scorers


def score_all(items, shared: Path, metric_names, scorers, args) -> tuple[dict, dict, dict]:
    """Scores of every item by every metric and model, and the time each took (seconds)."""
    from PIL import Image

    from iqa_keras.metrics.classical import compute_metric

    names = list(metric_names) + [name for name, _ in scorers]
    scores = {name: np.full(len(items), np.nan) for name in names}
    seconds = dict.fromkeys(names, 0.0)
    by_reference: dict[str, list[int]] = {}
    for index, item in enumerate(items):
        by_reference.setdefault(item["reference"], []).append(index)
    started = time.perf_counter()
    for count, (reference_name, indices) in enumerate(sorted(by_reference.items()), start=1):
        reference = np.asarray(Image.open(shared / "data" / "live_refimgs" / reference_name).convert("RGB"))
        distorted = np.stack([distort(reference, items[i], i, args) for i in indices])
        references = np.broadcast_to(reference, distorted.shape)
        for name in metric_names:
            tic = time.perf_counter()
            scores[name][indices] = compute_metric(name, references, distorted, batch_size=args.batch_size)
            seconds[name] += time.perf_counter() - tic
        for name, scorer in scorers:
            tic = time.perf_counter()
            if scorer.full_reference:
                values = scorer.score_pairs([(reference, image) for image in distorted])
            else:
                values = scorer.score_images(list(distorted))
            scores[name][indices] = values
            seconds[name] += time.perf_counter() - tic
        print(f"\r  {count}/{len(by_reference)} references, {time.perf_counter() - started:.0f} s",
              end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    directions = {}
    from iqa_keras.registry import FR_METRICS

    for name in metric_names:
        directions[name] = FR_METRICS.get(name).higher_is_better
    for name, scorer in scorers:
        directions[name] = scorer.higher_is_better
    return scores, directions, seconds


def figures(items, scores, directions) -> dict:
    kinds = np.array([item["type"] for item in items])
    dmos = np.array([item["dmos"] for item in items])
    table = {}
    for name, values in scores.items():
        row = {}
        for kind in TYPES:
            mask = kinds == kind
            row[kind] = spearman_agreement(values[mask], dmos[mask], directions[name])
        row["pooled"] = spearman_agreement(values, dmos, directions[name])
        table[name] = row
    return table


def format_table(table: dict, directions: dict, seconds: dict, counts: dict) -> str:
    width = max([len(name) for name in table] + [8])
    header = (f"{'metric':<{width}}  {'better':>6}  {'gblur':>7}  {'wn':>7}  {'pooled':>7}  {'s/pair':>7}")
    lines = [f"SRCC with LIVE R2 DMOS (sign: agreement with people): gblur n={counts['gblur']}, "
             f"wn n={counts['wn']}, pooled n={counts['pooled']}", header, "-" * len(header)]
    total = counts["pooled"]
    for name, row in table.items():
        lines.append(f"{name:<{width}}  {'higher' if directions[name] else 'lower':>6}  {row['gblur']:7.4f}  "
                     f"{row['wn']:7.4f}  {row['pooled']:7.4f}  {seconds[name] / total:7.3f}")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model_paths", nargs="*", help=".keras models (or run folders) to score as well")
    parser.add_argument("--shared", default=str(REPO.parent / "shared"),
                        help="folder holding data/live_dev, data/live_refimgs and the DMOS table (default: ../shared)")
    parser.add_argument("--models", nargs="+", default=[], help=".keras models (or run folders) to score as well")
    parser.add_argument("--metrics", nargs="+", default=None,
                        help="classical metrics to score (default: all registered)")
    parser.add_argument("--pooling", choices=("mean", "texture", "worst30"), default=None,
                        help="how the models pool patch scores (default: the rule each model records)")
    parser.add_argument("--json", default=None, help="write the figures to this JSON file")
    parser.add_argument("--seed", type=int, default=0, help="seed of the white noise (default 0)")
    parser.add_argument("--batch-size", type=int, default=5, help="pairs per metric graph call (default 5)")
    parser.add_argument("--blur-truncate", type=float, default=3.0,
                        help="blur kernel half-width in sigmas: k = 2 ceil(t sigma) + 1 (default 3)")
    parser.add_argument("--blur-border", choices=sorted(BORDERS), default="zero",
                        help="blur border handling, MATLAB imfilter's names (default zero, imfilter's own)")
    args = parser.parse_args(argv)

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    sys.path.insert(0, str(REPO))
    from iqa_keras.metrics.classical import METRIC_NAMES
    from iqa_keras.registry import FR_METRICS

    metric_names = args.metrics if args.metrics is not None else [n for n in METRIC_NAMES if n in FR_METRICS]
    for name in metric_names:
        FR_METRICS.get(name)  # an unknown name fails now, listing the known ones
    shared = Path(args.shared)
    items = load_items(shared)
    scorers = load_scorers(list(args.model_paths) + list(args.models), args.pooling)
    print(f"LIVE R2 development check: {len(items)} pairs from {len({i['reference'] for i in items})} references; "
          f"blur kernel 2 ceil({args.blur_truncate:g} sigma) + 1, {args.blur_border} border; noise seed {args.seed}")
    scores, directions, seconds = score_all(items, shared, metric_names, scorers, args)
    table = figures(items, scores, directions)
    counts = {kind: sum(item["type"] == kind for item in items) for kind in TYPES}
    counts["pooled"] = len(items)
    print(format_table(table, directions, seconds, counts))
    if args.json:
        payload = {
            "srcc": table,
            "higher_is_better": directions,
            "counts": counts,
            "seconds_per_pair": {name: seconds[name] / len(items) for name in seconds},
            "settings": {"seed": args.seed, "blur_truncate": args.blur_truncate, "blur_border": args.blur_border,
                         "shared": os.fspath(shared)},
        }
        Path(args.json).write_text(json.dumps(payload, indent=2) + "\n")
        print(f"figures written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
