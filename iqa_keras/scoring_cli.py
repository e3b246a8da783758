"""Command-line front ends of the Scorer: ``iqa-keras score`` and the two evaluation scripts.

``evaluation_single_image.py`` and ``evaluation_ntire.py`` at the repository
root call :func:`single_image_main` and :func:`ntire_main` through
``iqa_keras.cli``; this module holds their arguments and output.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

from .pairing import PAIR_RULES, Pairing, pair_folders
from .progress import ProgressBar
from .tta import TTA_SETS

MODELS_HELP = (
    "a .keras model file, or a folder whose .keras files form an ensemble "
    "(default: the repository's models/ folder)"
)


def add_scorer_arguments(parser: argparse.ArgumentParser, default_tta: str) -> None:
    """Options every scoring command shares."""
    parser.add_argument("--models", help=MODELS_HELP)
    parser.add_argument(
        "--tta", default=default_tta,
        help=f"test-time augmentation: {', '.join(TTA_SETS)}, or a custom list such as "
        f"'identity,rot90,flip_lr,lightness:0.5' (default: {default_tta})",
    )
    parser.add_argument("--stride", type=int, help="patch stride in pixels for larger images (default: input size / 2)")
    parser.add_argument("--batch-size", type=int, default=8, help="patch pairs per graph call (default: 8)")
    parser.add_argument("--workers", type=int, default=2, help="image-decoding threads (default: 2)")


def add_pairing_arguments(parser: argparse.ArgumentParser, required: bool) -> None:
    parser.add_argument("--ref-dir", required=required, help="folder of reference images")
    parser.add_argument("--dist-dir", required=required, help="folder of distorted images")
    parser.add_argument(
        "--pair-rule", default="pipal",
        help=f"how a distorted name gives its reference: {', '.join(PAIR_RULES)} (default: pipal, "
        "A0001_00_00.bmp -> A0001.bmp)",
    )
    parser.add_argument("--skip-missing", action="store_true",
                        help="skip distorted images without a reference (listed at the end) instead of failing")


def make_scorer(args: argparse.Namespace):
    from .scoring import Scorer

    return Scorer(args.models, tta=args.tta, stride=args.stride, batch_size=args.batch_size, workers=args.workers)


def _pair_from_args(args) -> Pairing:
    return pair_folders(args.ref_dir, args.dist_dir, rule=args.pair_rule, skip_missing=args.skip_missing)


def _score_with_progress(scorer, pairs) -> tuple[list[float], float]:
    bar = ProgressBar(len(pairs), unit="pairs")
    start = time.perf_counter()
    scores = scorer.score_pairs(pairs, progress=bar.update)
    return [float(s) for s in scores], time.perf_counter() - start


def _report_missing(pairing: Pairing) -> None:
    if pairing.missing:
        print(f"skipped {len(pairing.missing)} distorted image(s) with no reference:", file=sys.stderr)
        for dist, expected in pairing.missing:
            print(f"  {dist} (expected reference {expected})", file=sys.stderr)


def run(prog: str, func, args) -> int:
    """Runs a command, turning input errors into one readable line and exit status 2."""
    try:
        return func(args)
    except (ValueError, TypeError, FileNotFoundError) as error:
        print(f"{prog}: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{prog}: interrupted; no output written", file=sys.stderr)
        return 130


# ---- evaluation_single_image.py ------------------------------------------------------------


def single_image_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="evaluation_single_image.py",
        description="Score one (reference, distorted) pair and optionally draw it.",
    )
    parser.add_argument("--ref", required=True, help="reference image")
    parser.add_argument("--distorted", required=True, help="distorted image")
    add_scorer_arguments(parser, default_tta="ntire")
    parser.add_argument("--figure", help="write the pair side by side with its score to this PNG")
    parser.add_argument("--heatmap", help="write the per-patch scores drawn over the distorted image to this PNG")
    return parser


def cmd_single_image(args: argparse.Namespace) -> int:
    from . import plots
    from .patches import coverage_map
    from .scoring import as_rgb_image, check_same_size

    ref, ref_name = as_rgb_image(args.ref, "reference")
    dist, dist_name = as_rgb_image(args.distorted, "distorted")
    check_same_size(ref, dist, ref_name, dist_name)
    scorer = make_scorer(args)
    patch_scores = scorer.patch_scores(ref, dist) if args.heatmap else None
    # the image score is the mean of the patch scores, so a heatmap run needs no second pass
    score = patch_scores.score if patch_scores is not None else scorer.score_pair(ref, dist)
    print(f"models: {scorer.describe()}", file=sys.stderr)
    print("-------------------------------------")
    print("Image Quality Score: ", score)
    if args.figure:
        plots.plot_pair_result(ref, dist, score, args.figure)
        print(f"figure: {args.figure}", file=sys.stderr)
    if patch_scores is not None:
        grid = patch_scores.grid
        plots.plot_patch_heatmap(
            dist, grid.boxes, patch_scores.scores, coverage_map(grid, patch_scores.scores), args.heatmap,
            higher_is_better=scorer.higher_is_better,
        )
        print(f"heatmap: {args.heatmap} ({grid.count} patches of {grid.size} px, stride {grid.stride})",
              file=sys.stderr)
    return 0


def single_image_main(argv: list[str] | None = None) -> int:
    args = single_image_parser().parse_args(argv)
    return run("evaluation_single_image.py", cmd_single_image, args)


# ---- evaluation_ntire.py -------------------------------------------------------------------


def ntire_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="evaluation_ntire.py",
        description="Score a folder of distorted images against their references and write the "
        "NTIRE challenge's output.txt (and a submission zip).",
    )
    add_pairing_arguments(parser, required=True)
    add_scorer_arguments(parser, default_tta="ntire")
    parser.add_argument("--output", default="output.txt", help="scores file, one 'name,score' line per image")
    parser.add_argument("--zip", help="also write a submission zip holding output.txt and readme.txt")
    parser.add_argument("--extra-data", type=int, choices=(0, 1),
                        help="readme's 'Extra Data' flag (default: 1 unless every model was trained on PIPAL only)")
    parser.add_argument("--description", help="readme's 'Other description' line (default: models and settings)")
    return parser


def _used_extra_data(scorer) -> bool:
    """True unless every member says it was trained on PIPAL alone."""
    for model in scorer.models:
        trained_on = [name.lower() for name in model.iqa_info.trained_on]
        if not trained_on or any("pipal" not in name for name in trained_on):
            return True
    return False


def cmd_ntire(args: argparse.Namespace) -> int:
    import tensorflow as tf

    from .score_files import atomic_write_bytes, ntire_output_text, ntire_readme_text, write_ntire_zip

    pairing = _pair_from_args(args)
    scorer = make_scorer(args)
    print(f"scoring {len(pairing.pairs)} pairs with {scorer.describe()}", file=sys.stderr)
    scores, elapsed = _score_with_progress(scorer, pairing.pairs)
    output_text = ntire_output_text(pairing.names, scores)
    atomic_write_bytes(args.output, output_text.encode("utf-8"))
    runtime = elapsed / len(scores)
    written = [args.output]
    if args.zip:
        extra = bool(args.extra_data) if args.extra_data is not None else _used_extra_data(scorer)
        trained_on = sorted({name for m in scorer.models for name in m.iqa_info.trained_on}) or ["not recorded"]
        description = args.description or (
            f"Keras 3 full-reference CNN ({scorer.describe()}); trained on {', '.join(trained_on)}; "
            "score = mean over test-time augmentations, patches and models"
        )
        cpu = not tf.config.list_physical_devices("GPU")
        write_ntire_zip(args.zip, output_text, ntire_readme_text(runtime, cpu, extra, description))
        written.append(args.zip)
    print(f"scored {len(scores)} pairs in {elapsed:.1f} s ({runtime:.3f} s per pair); wrote {', '.join(written)}",
          file=sys.stderr)
    _report_missing(pairing)
    return 0


def ntire_main(argv: list[str] | None = None) -> int:
    args = ntire_parser().parse_args(argv)
    return run("evaluation_ntire.py", cmd_ntire, args)


# ---- iqa-keras score -----------------------------------------------------------------------


def add_score_parser(sub) -> argparse.ArgumentParser:
    """The ``iqa-keras score`` subcommand: pairs or folders in, CSV or JSON out."""
    parser = sub.add_parser(
        "score", help="score (reference, distorted) pairs or folders; CSV or JSON out",
        description="Score pairs given one by one (--ref/--distorted, repeatable), as two folders "
        "(--ref-dir/--dist-dir), or as a CSV list (--pairs, columns ref,distorted).",
    )
    parser.add_argument("--ref", action="append", default=[], help="reference image (repeatable, with --distorted)")
    parser.add_argument("--distorted", action="append", default=[], help="distorted image (repeatable)")
    parser.add_argument("--pairs", help="CSV file with columns ref,distorted (paths relative to the CSV's folder)")
    add_pairing_arguments(parser, required=False)
    add_scorer_arguments(parser, default_tta="none")
    parser.add_argument("--output", help="write scores here (.csv or .json); default: CSV on stdout")
    parser.add_argument("--format", choices=("csv", "json"), help="output format (default: from --output's extension)")
    from .nima_cli import add_nima_score_arguments  # `score --nima`: no-reference NIMA histograms

    add_nima_score_arguments(parser)
    parser.set_defaults(func=cmd_score)
    return parser


def _pairs_from_csv(path: str) -> list[tuple[str, str]]:
    import csv

    if not os.path.isfile(path):
        raise FileNotFoundError(f"pairs file not found: {path}")
    base = os.path.dirname(os.path.abspath(path))
    with open(path, newline="", encoding="utf-8") as stream:
        reader = csv.DictReader(stream)
        columns = reader.fieldnames or []
        dist_key = "distorted" if "distorted" in columns else "dist"
        if "ref" not in columns or dist_key not in columns:
            raise ValueError(f"{path}: expected columns ref,distorted; found {', '.join(columns) or 'none'}")
        pairs = []
        for line, row in enumerate(reader, start=2):
            if not row["ref"] or not row[dist_key]:
                raise ValueError(f"{path}, line {line}: empty ref or distorted path")
            pairs.append(tuple(os.path.join(base, row[key]) for key in ("ref", dist_key)))
    if not pairs:
        raise ValueError(f"{path}: no pairs listed")
    return pairs


def cmd_score(args: argparse.Namespace) -> int:
    if getattr(args, "nima", False):  # `score --nima`: handled by iqa_keras/nima_cli.py
        from .nima_cli import cmd_score_nima

        return cmd_score_nima(args)
    from .score_files import scores_csv_text, scores_json_text, write_scores

    sources = [bool(args.ref or args.distorted), bool(args.pairs), bool(args.ref_dir or args.dist_dir)]
    if sum(sources) != 1:
        raise ValueError("give exactly one of: --ref/--distorted pairs, --pairs CSV, or --ref-dir/--dist-dir")
    pairing = None
    if args.ref or args.distorted:
        if len(args.ref) != len(args.distorted):
            raise ValueError(f"{len(args.ref)} --ref but {len(args.distorted)} --distorted; give them in pairs")
        pairs = list(zip(args.ref, args.distorted))
    elif args.pairs:
        pairs = _pairs_from_csv(args.pairs)
    else:
        if not (args.ref_dir and args.dist_dir):
            raise ValueError("--ref-dir and --dist-dir go together")
        pairing = _pair_from_args(args)
        pairs = pairing.pairs
    scorer = make_scorer(args)
    scores, elapsed = _score_with_progress(scorer, pairs)
    rows = [{"ref": ref, "distorted": dist, "score": score} for (ref, dist), score in zip(pairs, scores)]
    meta = {
        "models": scorer.model_names,
        "tta": [a.name for a in scorer.augmentations],
        "stride": args.stride,
        "higher_is_better": scorer.higher_is_better,
        "seconds_per_pair": elapsed / len(pairs),
    }
    if args.output:
        write_scores(args.output, rows, meta, fmt=args.format)
        print(f"wrote {len(rows)} scores to {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(scores_json_text(rows, meta) if args.format == "json" else scores_csv_text(rows))
    if pairing is not None:
        _report_missing(pairing)
    return 0
