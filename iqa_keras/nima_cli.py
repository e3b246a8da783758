"""Scoring with NIMA models: ``iqa-keras score --nima`` and ``iqa-keras jpeg-check``.

``score --nima`` scores single images (files or folders, ``--image``): the
predicted 10-bin histogram, its mean and standard deviation (bins 1..10) and
the mean on the training set's MOS scale (``score``). Given pairs
(``--ref/--distorted`` or ``--ref-dir/--dist-dir``) it also reports the cosine
distance between the pooled features of reference and distorted image, the
full-reference signal seed 002 found more reliable than the score itself.

``jpeg-check`` is seed 002's sanity check: each image of a folder is
JPEG-encoded at qualities 90, 80, ..., 20; a model that tracks quality scores
them in the same order, so the Spearman correlation between JPEG quality and
predicted score should be close to +1 (and that between quality and feature
distance to the original, close to -1). Reported per image and averaged.

Images of any size: ``--mode patches`` (default) averages the outputs over
input-size patches covering the image (stride ``--stride``, default the input
size), ``center`` uses the central patch (seed 002), ``resize`` resizes the
whole image to the input size (idealo).
"""
from __future__ import annotations

import argparse
import io
import math
import os
import sys
from pathlib import Path

import numpy as np

MODES = ("patches", "center", "resize")
DEFAULT_QUALITIES = (90, 80, 70, 60, 50, 40, 30, 20)


# ----------------------------------------------------------------- the scorer
class NimaScorer:
    """Runs a NIMA (``kind`` "nima") or NIMA-regression (``kind`` "nr") model on whole images."""

    def __init__(self, model_path, mode: str = "patches", stride: int | None = None, batch_size: int = 16,
                 feature_layer: str | None = None):
        import keras

        from .architectures.nima import feature_layer_name
        from .models import load_model

        if model_path is None:
            raise ValueError("--nima needs --models naming one NIMA .keras file (e.g. runs/demo_nima/best.keras)")
        path = Path(model_path)
        if path.is_dir():
            path = path / "best.keras"
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}; expected one of {', '.join(MODES)}")
        self.model = load_model(path)
        self.info = self.model.iqa_info
        if len(self.model.inputs) != 1:
            raise ValueError(f"{path}: a full-reference model (two inputs); NIMA scoring needs a one-image model")
        self.histogram = self.model.outputs[0].shape[-1] > 1
        self.size = int(self.model.inputs[0].shape[1])
        self.mode, self.stride, self.batch_size = mode, stride or self.size, int(batch_size)
        self.path = str(path)
        layer = feature_layer or feature_layer_name(self.model)
        try:
            features = self.model.get_layer(layer).output
        except ValueError:
            raise ValueError(f"{path}: no layer named {layer!r} for the feature distance") from None
        self.feature_layer = layer
        self.both = keras.Model(self.model.inputs, [self.model.outputs[0], features])

    def _inputs(self, image: np.ndarray) -> np.ndarray:
        from PIL import Image

        from .patches import extract_patches, patch_grid

        if self.mode == "resize":
            resized = Image.fromarray(image).resize((self.size, self.size), Image.BILINEAR)
            return np.asarray(resized, dtype=np.float32)[None]
        if self.mode == "center":
            from .data.pipeline import fit_to_size_numpy

            return fit_to_size_numpy(image, self.size).astype(np.float32)[None]
        grid = patch_grid(image.shape[0], image.shape[1], self.size, min(self.stride, self.size))
        return extract_patches(image, grid).astype(np.float32)

    def outputs(self, image) -> tuple[np.ndarray, np.ndarray]:
        """(model output, feature vector) of one image (path or RGB array), averaged over its patches."""
        from .scoring import as_rgb_image

        image, _ = as_rgb_image(image, "image")
        batches = self._inputs(image)
        outs, feats = [], []
        for start in range(0, len(batches), self.batch_size):
            batch = batches[start:start + self.batch_size]
            count = len(batch)
            if count < self.batch_size:  # one batch shape for every call: no re-tracing
                batch = np.concatenate([batch, np.zeros((self.batch_size - count, *batch.shape[1:]), batch.dtype)])
            out, feat = self.both.predict_on_batch(batch)
            outs.append(np.asarray(out, np.float64)[:count])
            feats.append(np.asarray(feat, np.float64)[:count])
        return np.concatenate(outs).mean(axis=0), np.concatenate(feats).mean(axis=0)

    def describe(self, output: np.ndarray) -> dict:
        """Score fields of one model output: histogram, mean, std (bins) and the MOS-scale score."""
        from .nima_targets import HISTOGRAM_COLUMNS, histogram_moments

        if not self.histogram:
            return {"score": float(self.info.denormalize(float(output[0])))}
        p = output / output.sum()
        mean, std = histogram_moments(p[None])
        row = {"score": float(self.info.denormalize(float(mean[0]))), "mean": float(mean[0]), "std": float(std[0])}
        row.update({column: float(v) for column, v in zip(HISTOGRAM_COLUMNS, p)})
        return row

    def score(self, image) -> float:
        return self.describe(self.outputs(image)[0])["score"]


def cosine_distance(a, b) -> float:
    """``1 - a.b / (|a| |b|)``; 0 for identical directions (1 when a vector is zero)."""
    a, b = np.ravel(np.asarray(a, np.float64)), np.ravel(np.asarray(b, np.float64))
    norm = float(np.linalg.norm(a) * np.linalg.norm(b))
    return 1.0 if norm == 0 else float(1.0 - np.dot(a, b) / norm)


def expand_images(items) -> list[str]:
    """Files as given and the image files of folders (sorted, not recursive)."""
    from .data.images import is_image_file

    paths = []
    for item in items:
        if os.path.isdir(item):
            found = sorted(os.path.join(item, n) for n in os.listdir(item) if is_image_file(n))
            if not found:
                raise ValueError(f"{item}: no image files in this folder")
            paths += found
        elif os.path.isfile(item):
            paths.append(item)
        else:
            raise FileNotFoundError(f"image or folder not found: {item}")
    return paths


# ----------------------------------------------------------------- score --nima
def add_nima_score_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``--nima`` options of ``iqa-keras score`` (the rest is shared with FR scoring)."""
    group = parser.add_argument_group("NIMA (no-reference) scoring")
    group.add_argument("--nima", action="store_true",
                       help="score with a NIMA model (--models FILE): mean, std and 10-bin histogram per image; "
                       "with pairs also the cosine distance of their pooled features")
    group.add_argument("--image", action="append", default=[], help="image file or folder to score (repeatable)")
    group.add_argument("--mode", default="patches", choices=MODES,
                       help="whole images: average over input-size patches (default), the central patch, or resize")


def _pairs(args) -> list[tuple[str, str]]:
    if args.ref or args.distorted:
        if len(args.ref) != len(args.distorted):
            raise ValueError(f"{len(args.ref)} --ref but {len(args.distorted)} --distorted; give them in pairs")
        return list(zip(args.ref, args.distorted))
    if args.ref_dir or args.dist_dir:
        from .pairing import pair_folders

        if not (args.ref_dir and args.dist_dir):
            raise ValueError("--ref-dir and --dist-dir go together")
        return list(pair_folders(args.ref_dir, args.dist_dir, rule=args.pair_rule,
                                 skip_missing=args.skip_missing).pairs)
    return []


def cmd_score_nima(args: argparse.Namespace) -> int:
    """``iqa-keras score --nima``: rows per image (and per pair), CSV on stdout or --output CSV/JSON."""
    from .progress import ProgressBar
    from .score_files import scores_csv_text, scores_json_text, write_scores

    images = expand_images(args.image)
    pairs = _pairs(args)
    if getattr(args, "pairs", None):
        from .scoring_cli import _pairs_from_csv

        pairs += _pairs_from_csv(args.pairs)
    if not images and not pairs:
        raise ValueError("--nima: give images (--image FILE_OR_FOLDER) and/or pairs (--ref/--distorted, --ref-dir/--dist-dir)")
    scorer = NimaScorer(args.models, mode=args.mode, stride=args.stride, batch_size=args.batch_size)
    rows = []
    bar = ProgressBar(len(images) + len(pairs), unit="images/pairs")
    for index, path in enumerate(images, start=1):
        rows.append({"image": path, **scorer.describe(scorer.outputs(path)[0])})
        bar.update(index)
    for index, (ref, dist) in enumerate(pairs, start=len(images) + 1):
        ref_out, ref_feat = scorer.outputs(ref)
        dist_out, dist_feat = scorer.outputs(dist)
        ref_row, dist_row = scorer.describe(ref_out), scorer.describe(dist_out)
        row = {"image": dist, "reference": ref, **dist_row, "reference_score": ref_row["score"],
               "feature_cosine_distance": cosine_distance(ref_feat, dist_feat)}
        rows.append(row)
        bar.update(index)
    if pairs and images:  # one table: every row gets every column
        keys = list(dict.fromkeys(k for row in rows for k in row))
        rows = [{k: row.get(k, "") for k in keys} for row in rows]
    meta = {"model": scorer.path, "kind": scorer.info.kind, "mode": args.mode, "input_size": scorer.size,
            "feature_layer": scorer.feature_layer, "score_scale": scorer.info.score_range,
            "higher_is_better": scorer.info.higher_is_better,
            "note": "mean/std/hist_* are on bins 1..10; score is the mean on the training set's MOS scale"}
    if args.output:
        write_scores(args.output, rows, meta, fmt=args.format)
        print(f"wrote {len(rows)} rows to {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(scores_json_text(rows, meta) if args.format == "json" else scores_csv_text(rows))
    return 0


# ----------------------------------------------------------------- jpeg-check
def jpeg_versions(image: np.ndarray, qualities) -> list[np.ndarray]:
    """The image JPEG-encoded (PIL, 4:2:0) and decoded again at each quality."""
    from PIL import Image

    versions = []
    for quality in qualities:
        buffer = io.BytesIO()
        Image.fromarray(image).save(buffer, format="JPEG", quality=int(quality))
        buffer.seek(0)
        with Image.open(buffer) as decoded:
            versions.append(np.asarray(decoded.convert("RGB")).copy())
    return versions


def jpeg_check(scorer: NimaScorer, paths, qualities=DEFAULT_QUALITIES, progress=None) -> dict:
    """Per image: scores at each JPEG quality, Spearman(quality, score), Spearman(quality, feature distance).

    Returns ``{"images": [...], "mean_srcc_score": ..., "mean_srcc_distance": ..., "share_monotone": ...}``;
    a score that "falls as quality falls" gives SRCC +1 (for a lower-is-better
    model the sign is flipped so that +1 still means "tracks quality").
    """
    from .data.images import read_image
    from .metrics import srcc

    if len(qualities) < 2:
        raise ValueError(f"jpeg-check needs at least two qualities, got {list(qualities)}")
    sign = 1.0 if scorer.info.higher_is_better else -1.0
    rows = []
    for index, path in enumerate(paths, start=1):
        image = read_image(path)
        _, original_features = scorer.outputs(image)
        scores, distances = [], []
        for version in jpeg_versions(image, qualities):
            output, features = scorer.outputs(version)
            scores.append(scorer.describe(output)["score"])
            distances.append(cosine_distance(original_features, features))
        score_srcc = srcc(qualities, np.asarray(scores) * sign)
        distance_srcc = srcc(qualities, distances)
        rows.append({
            "image": str(path),
            "srcc_score": None if math.isnan(score_srcc) else score_srcc,
            "srcc_distance": None if math.isnan(distance_srcc) else distance_srcc,
            **{f"score_q{q}": s for q, s in zip(qualities, scores)},
            **{f"distance_q{q}": d for q, d in zip(qualities, distances)},
        })
        if progress:
            progress(index)
    valid = [r["srcc_score"] for r in rows if r["srcc_score"] is not None]
    valid_distance = [r["srcc_distance"] for r in rows if r["srcc_distance"] is not None]
    return {
        "qualities": list(qualities),
        "images": rows,
        "mean_srcc_score": float(np.mean(valid)) if valid else None,
        "mean_srcc_distance": float(np.mean(valid_distance)) if valid_distance else None,
        "share_monotone": float(np.mean([v >= 1.0 - 1e-9 for v in valid])) if valid else None,
    }


def add_jpeg_check_parser(sub) -> argparse.ArgumentParser:
    parser = sub.add_parser(
        "jpeg-check", help="seed 002's check: does a NIMA score fall as JPEG quality falls? (Spearman per image)",
        description="Encode each image at JPEG qualities 90..20 and report the Spearman correlation between "
        "quality and the model's score (+1: the score falls with quality) and between quality and the "
        "cosine distance of the pooled features to the original (-1: distance grows as quality falls).",
    )
    parser.add_argument("images", nargs="+", help="image files or folders")
    parser.add_argument("--models", required=True, help="a NIMA or NIMA-regression .keras file (or run folder)")
    parser.add_argument("--qualities", default=",".join(map(str, DEFAULT_QUALITIES)),
                        help="comma-separated JPEG qualities (default: 90,80,70,60,50,40,30,20)")
    parser.add_argument("--mode", default="patches", choices=MODES, help="how whole images are fed (default: patches)")
    parser.add_argument("--stride", type=int, help="patch stride (default: the input size)")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--output", help="write the per-image table (.csv) or everything (.json)")
    parser.add_argument("--figure", help="PNG: score against JPEG quality, one line per image")
    parser.set_defaults(func=cmd_jpeg_check)
    return parser


def _parse_qualities(text: str) -> list[int]:
    try:
        qualities = [int(q) for q in str(text).split(",") if q.strip()]
    except ValueError:
        raise ValueError(f"--qualities: expected comma-separated integers, got {text!r}") from None
    if not qualities or any(not 1 <= q <= 100 for q in qualities):
        raise ValueError(f"--qualities: JPEG qualities must be in 1..100, got {text!r}")
    return qualities


def cmd_jpeg_check(args: argparse.Namespace) -> int:
    from .progress import ProgressBar
    from .score_files import atomic_write_bytes, scores_csv_text

    qualities = _parse_qualities(args.qualities)
    paths = expand_images(args.images)
    scorer = NimaScorer(args.models, mode=args.mode, stride=args.stride, batch_size=args.batch_size)
    bar = ProgressBar(len(paths), unit="images")
    result = jpeg_check(scorer, paths, qualities, progress=bar.update)

    def fmt(value):
        return "n/a" if value is None else f"{value:+.3f}"

    print(f"JPEG check of {scorer.path} ({scorer.info.kind}, mode {args.mode}) at qualities {qualities}")
    print(f"{'image':<40} {'SRCC(q, score)':>15} {'SRCC(q, feature distance)':>26}  scores")
    for row in result["images"]:
        scores = " ".join(f"{row[f'score_q{q}']:.3f}" for q in qualities)
        print(f"{Path(row['image']).name[:40]:<40} {fmt(row['srcc_score']):>15} {fmt(row['srcc_distance']):>26}  {scores}")
    print(f"mean SRCC(quality, score) {fmt(result['mean_srcc_score'])} (+1: score falls as quality falls); "
          f"mean SRCC(quality, feature distance) {fmt(result['mean_srcc_distance'])} (-1 expected); "
          "images with a perfectly monotone score: "
          + ("n/a" if result["share_monotone"] is None else f"{result['share_monotone']:.0%}"))
    if args.output:
        import json

        if args.output.lower().endswith(".json"):
            atomic_write_bytes(args.output, (json.dumps({"model": scorer.path, **result}, indent=2) + "\n").encode())
        else:
            atomic_write_bytes(args.output, scores_csv_text(result["images"]).encode("utf-8"))
        print(f"wrote {args.output}", file=sys.stderr)
    if args.figure:
        from . import plots

        plots.jpeg_check_figure(qualities, [[r[f"score_q{q}"] for q in qualities] for r in result["images"]],
                                [Path(r["image"]).name for r in result["images"]], args.figure,
                                title=f"mean SRCC(quality, score) {fmt(result['mean_srcc_score'])}")
        print(f"figure: {args.figure}", file=sys.stderr)
    return 0
