#!/usr/bin/env python3
"""Which patch pooling should a model use? Chosen on held-out photographs of the training corpus.

A patch model scores a large image as the pooled scores of its patches. This
script takes the corpus photographs the model's config held out for
validation (the same content split), distorts each whole photograph (short
side 512, as in training) by every type and level of the distortion zoo,
labels each whole-image pair with the config's own label rule (its metric
ensemble, each metric mapped by the line fitted on the corpus pairs), scores
it with the model's patches, and prints SRCC between the labels and each
pooling rule:

* ``mean``: the unweighted mean of the patch scores;
* ``texture``: weighted by each reference patch's mean gradient magnitude
  (``iqa_keras.scoring.pooling``), and ``texture^2``: by its square;
* ``worst30``: the mean of the worst 30% of patch scores (percentile
  pooling, Moorthy & Bovik 2009);
* ``median``.

No human rating is used: the LIVE development check (``live_dev.py``) only
confirms the choice afterwards.

    python benchmarks/pooling_study.py models/pretrained_fr.keras --config configs/pretrained_fr.toml
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))


def held_out_photos(config) -> list[Path]:
    """The corpus photographs of the config's validation split (its photos dataset, fractions and seed)."""
    from iqa_keras.data.photos import build_photo_pairs, list_photos
    from iqa_keras.data.splits import split_by_content

    (section,) = [d for d in config.data.datasets if d.name == "photos"]
    root = Path(section.root).expanduser()
    options = dict(section.options)
    folder = build_photo_pairs(root, photo_size=options.get("photo_size", 512),
                               crop_size=options.get("crop_size", 192),
                               crops_per_photo=options.get("crops_per_photo", 4), seed=options.get("seed", 0))
    pairs = pd.read_csv(folder / "pairs.csv").assign(db="photos")
    splits = split_by_content(pairs, fractions=dict(section.fractions), seed=config.data.seed)
    names = {content.split(":", 1)[1] for content in splits["val"]["content"]}
    return [path for path in list_photos(root) if path.stem in names]


def label_lines(config) -> tuple[dict, dict]:
    """The config's label weights and, per metric, the pooled line fitted on the corpus pairs."""
    from label_study import corpus_maps

    (section,) = [d for d in config.data.datasets if d.name == "photos"]
    weights = dict(section.options["label"])
    maps, _ = corpus_maps(Path(section.root).expanduser(), list(weights))
    return weights, {name: maps[(name, "pooled")] for name in weights}


def pooled_scores(patch_scores: list[np.ndarray], textures: list[np.ndarray], higher_is_better: bool) -> dict:
    """Each candidate rule's image scores; the package's rules (``pool_scores``) and two more for comparison."""
    from iqa_keras.scoring.pooling import POOLINGS, pool_scores

    rules = {name: (lambda s, t, n=name: pool_scores(n, s, t, higher_is_better)) for name in POOLINGS}
    rules["texture^2"] = lambda s, t: (s * t**2).sum() / (t**2).sum()
    rules["median"] = lambda s, t: float(np.median(s))
    return {name: np.array([rule(s, t) for s, t in zip(patch_scores, textures)]) for name, rule in rules.items()}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", help="a .keras model")
    parser.add_argument("--config", required=True, help="the config that trained it (photos dataset, label rule)")
    parser.add_argument("--photo-size", type=int, default=512)
    parser.add_argument("--stride", type=int, default=None, help="patch stride (default half the input size)")
    args = parser.parse_args(argv)

    import tensorflow as tf
    from scipy import stats

    from iqa_keras.config import load_config
    from iqa_keras.data.distortions import DISTORTION_TYPES, distort
    from iqa_keras.data.images import read_image
    from iqa_keras.data.photos import resize_short_side
    from iqa_keras.metrics.classical import compute_metric
    from iqa_keras.model_io import load_model
    from iqa_keras.registry import FR_METRICS
    from iqa_keras.scoring.patches import extract_patches, patch_grid
    from iqa_keras.scoring.pooling import patch_texture

    config = load_config(args.config)
    model = load_model(args.model)
    info = model.iqa_info
    size = int(info.input_size)
    full_reference = info.kind == "fr"
    photos = held_out_photos(config)
    weights, lines = label_lines(config)
    print(f"{len(photos)} held-out photos: {', '.join(p.stem for p in photos)}", file=sys.stderr)

    labels, kinds, patch_scores, textures = [], [], [], []
    started = time.perf_counter()
    for p, path in enumerate(photos):
        reference = resize_short_side(read_image(path), args.photo_size)
        grid = patch_grid(*reference.shape[:2], size, args.stride)
        ref_patches = extract_patches(reference, grid)
        jobs = [("pristine", 0)] + [(t, level) for t in DISTORTION_TYPES for level in range(1, 6)]
        distorted = []
        for t, level in jobs:
            if t == "pristine":
                distorted.append(reference)
            else:
                rng = np.random.default_rng([7, p, DISTORTION_TYPES.index(t), level])
                distorted.append(distort(reference, t, level, rng))
        distorted = np.stack(distorted)
        references = np.broadcast_to(reference, distorted.shape)
        label = np.zeros(len(jobs))
        for name, weight in weights.items():
            values = compute_metric(name, references, distorted, batch_size=8)
            oriented = values if FR_METRICS.get(name).higher_is_better else -values
            slope, intercept = lines[name]
            label += weight * (slope * oriented + intercept)
        labels.extend(label / sum(weights.values()))
        kinds.extend(t for t, _ in jobs)
        for image in distorted:
            dist_patches = extract_patches(image, grid)
            inputs = [ref_patches.astype(np.float32), dist_patches.astype(np.float32)] if full_reference \
                else dist_patches.astype(np.float32)
            out = np.asarray(model.predict_on_batch(inputs), np.float64).reshape(-1)
            patch_scores.append(np.asarray(info.denormalize(out), np.float64))
            textures.append(patch_texture(tf.constant(ref_patches if full_reference else dist_patches)).numpy())
        print(f"\r  {p + 1}/{len(photos)} photos, {time.perf_counter() - started:.0f} s", end="", file=sys.stderr)
    print(file=sys.stderr)

    labels, kinds = np.asarray(labels), np.asarray(kinds)
    sign = 1.0 if info.higher_is_better else -1.0
    print(f"{len(labels)} whole-image pairs; SRCC against the config's label rule (higher is better)")
    print(f"{'pooling':<10}  {'all':>6}  {'within type (median)':>20}")
    for name, scores in pooled_scores(patch_scores, textures, info.higher_is_better).items():
        overall = stats.spearmanr(sign * scores, labels)[0]
        within = [stats.spearmanr(sign * scores[kinds == t], labels[kinds == t])[0] for t in DISTORTION_TYPES]
        print(f"{name:<10}  {overall:6.4f}  {np.nanmedian(within):20.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
