"""``iqa-keras jpeg-check``: the JPEG check of the Keras NIMA reproduction, per image.

Each image is JPEG-encoded at qualities 90, 80, ..., 20 and the Spearman
correlation between quality and the model's score (+1: the score falls with
quality) and between quality and the feature distance to the original (-1
expected) is reported per image and averaged (see ``iqa_keras.scoring.jpeg_check``).
Images of any size: ``--mode patches`` (default) averages the outputs over
input-size patches (stride ``--stride``, default the input size), ``center``
uses the central patch, ``resize`` resizes the whole image.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..scoring.jpeg_check import DEFAULT_QUALITIES
from ..scoring.scorer import MODES


def add_parser(sub) -> argparse.ArgumentParser:
    parser = sub.add_parser(
        "jpeg-check", help="does a no-reference score fall as JPEG quality falls? (Spearman per image)",
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
    from ..scoring import expand_images, scores_csv_text
    from ..scoring.jpeg_check import jpeg_check
    from ..scoring.scorer import no_reference_scorer, single_model_path
    from ..utils.atomic import atomic_write_text
    from ..utils.progress import ProgressBar
    from .common import check_outputs

    check_outputs(args.output, args.figure)
    qualities = _parse_qualities(args.qualities)
    paths = expand_images(args.images)
    model_path = single_model_path(args.models)
    scorer = no_reference_scorer(model_path, mode=args.mode, stride=args.stride, batch_size=args.batch_size)
    bar = ProgressBar(len(paths), unit="images")
    result = jpeg_check(scorer, paths, qualities, progress=bar.update)

    def fmt(value):
        return "n/a" if value is None else f"{value:+.3f}"

    print(f"JPEG check of {model_path} ({scorer.info.kind}, mode {args.mode}) at qualities {qualities}")
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
            atomic_write_text(args.output, json.dumps({"model": str(model_path), **result}, indent=2) + "\n")
        else:
            atomic_write_text(args.output, scores_csv_text(result["images"]))
        print(f"wrote {args.output}", file=sys.stderr)
    if args.figure:
        from ..utils import plots

        plots.jpeg_check_figure(qualities, [[r[f"score_q{q}"] for q in qualities] for r in result["images"]],
                                [Path(r["image"]).name for r in result["images"]], args.figure,
                                title=f"mean SRCC(quality, score) {fmt(result['mean_srcc_score'])}")
        print(f"figure: {args.figure}", file=sys.stderr)
    return 0
