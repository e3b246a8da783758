"""``iqa-keras score``: pairs, folders or single images in; CSV or JSON scores out.

Full-reference models score pairs given one by one (``--ref/--distorted``),
as two folders (``--ref-dir/--dist-dir``) or as a CSV list (``--pairs``).
``--nima`` scores single images (``--image``) with one no-reference model:
the predicted 10-bin histogram, its mean and standard deviation (bins
1..10) and the mean on the training set's MOS scale (``score``); given
pairs it also reports the cosine distance between the pooled features of
reference and distorted image, a full-reference signal the Keras NIMA
reproduction found more reliable than the score itself.
"""
from __future__ import annotations

import argparse
import sys

from ..scoring.scorer import MODES
from .common import add_pairing_arguments, add_scorer_arguments, check_outputs, make_scorer, pair_from_args
from .common import pairs_from_csv, single_model_from_args
from .common import report_missing, score_with_progress


def add_parser(sub) -> argparse.ArgumentParser:
    parser = sub.add_parser(
        "score", help="score (reference, distorted) pairs, folders or single images; CSV or JSON out",
        description="Score pairs given one by one (--ref/--distorted, repeatable), as two folders "
        "(--ref-dir/--dist-dir), or as a CSV list (--pairs, columns ref,distorted); with --nima, "
        "single images (--image) with a no-reference model.",
    )
    parser.add_argument("--ref", action="append", default=[], help="reference image (repeatable, with --distorted)")
    parser.add_argument("--distorted", action="append", default=[], help="distorted image (repeatable)")
    parser.add_argument("--pairs", help="CSV file with columns ref,distorted (paths relative to the CSV's folder)")
    add_pairing_arguments(parser, required=False)
    add_scorer_arguments(parser, default_tta="none")
    parser.add_argument("--output", help="write scores here (.csv or .json); default: CSV on stdout")
    parser.add_argument("--format", choices=("csv", "json"), help="output format (default: from --output's extension)")
    parser.add_argument("--metric", help="score with a classical full-reference metric instead of a model "
                        "(psnr, ssim, ms_ssim, gmsd, vif, fsim); same pairs, folders and outputs")
    group = parser.add_argument_group("no-reference (NIMA) scoring")
    group.add_argument("--nima", action="store_true",
                       help="score with one no-reference model (--models FILE): mean, std and 10-bin histogram per "
                       "image; with pairs also the cosine distance of their pooled features")
    group.add_argument("--image", action="append", default=[], help="image file or folder to score (repeatable)")
    group.add_argument("--mode", default="patches", choices=MODES,
                       help="whole images: average over input-size patches (default), the central patch, or resize")
    parser.set_defaults(func=cmd_score)
    return parser


def _write(args, rows, meta) -> None:
    from ..scoring import scores_csv_text, scores_json_text, write_scores

    if args.output:
        write_scores(args.output, rows, meta, fmt=args.format)
        print(f"wrote {len(rows)} rows to {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(scores_json_text(rows, meta) if args.format == "json" else scores_csv_text(rows))


def _given_pairs(args) -> list[tuple[str, str]]:
    if len(args.ref) != len(args.distorted):
        raise ValueError(f"{len(args.ref)} --ref but {len(args.distorted)} --distorted; give them in pairs")
    return list(zip(args.ref, args.distorted))


def _metric_scorer(args):
    """``--metric``: a classical metric; model options make no sense with it and are refused."""
    from ..scoring.metric_scorer import MetricScorer

    if args.models is not None or args.preset is not None or args.tta != "none":
        raise ValueError("--metric scores with a classical metric: drop --models, --preset and --tta")
    return MetricScorer(args.metric)


def cmd_score(args: argparse.Namespace) -> int:
    if args.nima and args.metric:
        raise ValueError("--metric and --nima exclude each other: a classical metric needs pairs")
    check_outputs(args.output)
    if args.nima:
        return cmd_score_no_reference(args)
    sources = [bool(args.ref or args.distorted), bool(args.pairs), bool(args.ref_dir or args.dist_dir)]
    if sum(sources) != 1:
        raise ValueError("give exactly one of: --ref/--distorted pairs, --pairs CSV, or --ref-dir/--dist-dir")
    pairing = None
    if args.ref or args.distorted:
        pairs = _given_pairs(args)
    elif args.pairs:
        pairs = pairs_from_csv(args.pairs)
    else:
        pairing = pair_from_args(args)
        pairs = pairing.pairs
    scorer = _metric_scorer(args) if args.metric else make_scorer(args)
    scores, elapsed = score_with_progress(scorer, pairs)
    rows = [{"ref": ref, "distorted": dist, "score": score} for (ref, dist), score in zip(pairs, scores)]
    meta = {
        "models": scorer.model_names,
        "tta": [a.name for a in scorer.augmentations],
        "stride": args.stride,
        "higher_is_better": scorer.higher_is_better,
        "seconds_per_pair": elapsed / len(pairs),
    }
    _write(args, rows, meta)
    if pairing is not None:
        report_missing(pairing)
    return 0


def cmd_score_no_reference(args: argparse.Namespace) -> int:
    """``score --nima``: rows per image (and per pair, with the feature distance)."""
    from ..scoring import cosine_distance, expand_images
    from ..scoring.scorer import no_reference_scorer, single_model_path
    from ..utils.progress import ProgressBar

    images = expand_images(args.image)
    pairs = _given_pairs(args) if (args.ref or args.distorted) else []
    if args.ref_dir or args.dist_dir:
        pairs += pair_from_args(args).pairs
    if args.pairs:
        pairs += pairs_from_csv(args.pairs)
    if not images and not pairs:
        raise ValueError("--nima: give images (--image FILE_OR_FOLDER) and/or pairs (--ref/--distorted, --ref-dir/--dist-dir)")
    path = single_model_path(single_model_from_args(
        args, "--nima needs --models naming one NIMA .keras file (e.g. runs/demo_nima/best.keras) or --preset NAME"))
    scorer = no_reference_scorer(path, mode=args.mode, stride=args.stride, batch_size=args.batch_size,
                                 pooling=args.pooling)

    def fields(image, output) -> dict:
        """The output's fields; under a pooling other than the mean, ``score`` is the pooled patch score."""
        row = scorer.output_fields(output)
        if scorer.pooling != "mean" and args.mode == "patches":
            row["score"] = scorer.score_image(image)
        return row

    rows = []
    bar = ProgressBar(len(images) + len(pairs), unit="images/pairs")
    for index, image in enumerate(images, start=1):
        rows.append({"image": image, **fields(image, scorer.outputs(image)[0])})
        bar.update(index)
    for index, (ref, dist) in enumerate(pairs, start=len(images) + 1):
        ref_out, ref_features = scorer.outputs(ref)
        dist_out, dist_features = scorer.outputs(dist)
        rows.append({"image": dist, "reference": ref, **fields(dist, dist_out),
                     "reference_score": fields(ref, ref_out)["score"],
                     "feature_cosine_distance": cosine_distance(ref_features, dist_features)})
        bar.update(index)
    if pairs and images:  # one table: every row gets every column
        keys = list(dict.fromkeys(k for row in rows for k in row))
        rows = [{k: row.get(k, "") for k in keys} for row in rows]
    info = scorer.info
    meta = {"model": str(path), "kind": info.kind, "mode": args.mode, "input_size": scorer.input_size,
            "feature_layer": scorer.feature_layer, "score_scale": info.score_range,
            "higher_is_better": info.higher_is_better,
            "pooling": scorer.pooling,
            "note": "mean/std/hist_* are on bins 1..10 (mean over patches); score is on the training set's MOS "
                    "scale, the patches pooled by the model's pooling rule"}
    _write(args, rows, meta)
    return 0
