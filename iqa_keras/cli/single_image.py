"""``evaluation_single_image.py``: score one (reference, distorted) pair, optionally drawn."""
from __future__ import annotations

import argparse
import sys

from .common import add_scorer_arguments, check_outputs, make_scorer, run


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
    from ..scoring import coverage_map
    from ..scoring.scorer import as_rgb_image, check_same_size
    from ..utils import plots

    check_outputs(args.figure, args.heatmap)
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
    print(f"Score scale: {scorer.scale_description()}")
    if args.figure:
        plots.plot_pair_result(ref, dist, score, args.figure)
        print(f"figure: {args.figure}", file=sys.stderr)
    if patch_scores is not None:
        grid = patch_scores.grid
        plots.plot_patch_heatmap(
            dist, grid.boxes, patch_scores.scores, coverage_map(grid, patch_scores.scores), args.heatmap,
            higher_is_better=scorer.higher_is_better, pooled=(f"{scorer.pooling}-pooled", patch_scores.score),
        )
        print(f"heatmap: {args.heatmap} ({grid.count} patches of {grid.size} px, stride {grid.stride})",
              file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = single_image_parser().parse_args(argv)
    return run("evaluation_single_image.py", cmd_single_image, args)
