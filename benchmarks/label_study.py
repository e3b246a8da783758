#!/usr/bin/env python3
"""Which training labels carry perception? Label sources of the photo corpus judged on the LIVE development check.

A label source is a rule that scores a (reference, distorted) pair. This
script applies each rule the shipped models could be trained on to the 290
rebuilt LIVE blur and noise pairs of ``benchmarks/live_dev.py`` and prints
SRCC against the human DMOS, per type and pooled:

* ``formula``: the type/level curve of the photo source. A LIVE image gets
  the zoo level its parameter corresponds to (linear interpolation between
  the zoo's level parameters for ``gaussian_blur`` (sigma) and
  ``white_noise`` (std in grey levels, LIVE's std x 255); parameter 0 is
  level 0, beyond level 5 the curve is extended linearly) and the formula's
  score at that level. It is blind to content by construction.
* each classical metric alone (GMSD, VIF, MS-SSIM, ...);
* the weighted ensembles, each metric mapped onto the 1-5 scale by the
  least-squares line fitted on the corpus pairs (``calibrate = "pooled"``),
  or by one line per distortion type (``"per_type"``: LIVE blur uses the
  corpus's ``gaussian_blur`` line, noise the ``white_noise`` line).

    python benchmarks/label_study.py [--corpus ~/.cache/iqa_keras/photo_corpus] [--shared ../shared]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))
import live_dev  # noqa: E402

ZOO_TYPE = {"gblur": "gaussian_blur", "wn": "white_noise"}
ENSEMBLES = {
    "gmsd+vif+ms_ssim": {"gmsd": 1.0, "vif": 1.0, "ms_ssim": 1.0},
    "gmsd+vif": {"gmsd": 1.0, "vif": 1.0},
}


def live_level(kind: str, parameter: float) -> float:
    """The zoo level (fractional) whose parameter equals a LIVE parameter."""
    from iqa_keras.data.distortions import LEVEL_PARAMETERS

    levels = np.asarray(LEVEL_PARAMETERS[ZOO_TYPE[kind]], dtype=np.float64)
    value = parameter * 255.0 if kind == "wn" else parameter
    grid = np.concatenate([[0.0], levels])
    if value <= grid[-1]:
        return float(np.interp(value, grid, np.arange(6)))
    return 5.0 + (value - grid[-1]) / (grid[-1] - grid[-2])


def formula_at(kind: str, level: float) -> float:
    from iqa_keras.data.photos import DEFAULT_FLOOR, DEFAULT_GAMMA, FORMULA_CURVES

    floor, gamma = FORMULA_CURVES.get(ZOO_TYPE[kind], (DEFAULT_FLOOR, DEFAULT_GAMMA))
    return 5.0 - (5.0 - floor) * (level / 5.0) ** gamma


def corpus_maps(corpus: Path, metrics: list[str]) -> tuple[dict, pd.DataFrame]:
    """Least-squares lines (pooled and per type) from each oriented metric to the formula, on the corpus pairs."""
    from iqa_keras.data.photos import build_photo_pairs, fit_label_map, formula_score, metric_values, with_pristine
    from iqa_keras.registry import FR_METRICS

    folder = build_photo_pairs(corpus)
    pairs = with_pristine(pd.read_csv(folder / "pairs.csv"))
    formula = np.array([formula_score(d, int(v)) for d, v in zip(pairs["distortion"], pairs["level"])])
    maps = {}
    for name in metrics:
        values = metric_values(folder, pairs, name)
        oriented = values if FR_METRICS.get(name).higher_is_better else -values
        pairs[name] = oriented
        maps[(name, "pooled")] = fit_label_map(oriented, formula)
        for kind, zoo in ZOO_TYPE.items():
            mask = (pairs["distortion"] == zoo).to_numpy()
            maps[(name, kind)] = fit_label_map(oriented[mask], formula[mask])
    pairs["formula"] = formula
    return maps, pairs


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", default="~/.cache/iqa_keras/photo_corpus", help="the photo corpus folder")
    parser.add_argument("--shared", default=str(REPO.parent / "shared"))
    args = parser.parse_args(argv)
    from iqa_keras.registry import FR_METRICS
    from iqa_keras.metrics import classical  # noqa: F401

    metrics = ["gmsd", "vif", "ms_ssim", "ssim", "psnr"]
    in_ensembles = sorted({name for weights in ENSEMBLES.values() for name in weights})
    maps, _ = corpus_maps(Path(args.corpus).expanduser(), in_ensembles)
    items = live_dev.load_items(Path(args.shared))
    options = argparse.Namespace(seed=0, blur_truncate=3.0, blur_border="symmetric", batch_size=5)
    scores, directions, _ = live_dev.score_all(items, Path(args.shared), metrics, [], options)
    kinds = np.array([item["type"] for item in items])
    rules = {"formula": np.array([formula_at(i["type"], live_level(i["type"], i["parameter"])) for i in items])}
    for name in metrics:
        rules[name] = scores[name] if FR_METRICS.get(name).higher_is_better else -scores[name]
    for label, weights in ENSEMBLES.items():
        for calibrate in ("pooled", "per_type"):
            total = np.zeros(len(items))
            for name, weight in weights.items():
                oriented = rules[name]
                if calibrate == "pooled":
                    slope, intercept = maps[(name, "pooled")]
                    total += weight * (slope * oriented + intercept)
                else:
                    for kind in ZOO_TYPE:
                        slope, intercept = maps[(name, kind)]
                        mask = kinds == kind
                        total[mask] += weight * (slope * oriented[mask] + intercept)
            rules[f"{label} ({calibrate})"] = total / sum(weights.values())
    table = live_dev.figures(items, rules, dict.fromkeys(rules, True))
    width = max(len(name) for name in table)
    print(f"{'label source':<{width}}  {'gblur':>6}  {'wn':>6}  {'pooled':>6}")
    for name, row in table.items():
        print(f"{name:<{width}}  {row['gblur']:6.3f}  {row['wn']:6.3f}  {row['pooled']:6.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
