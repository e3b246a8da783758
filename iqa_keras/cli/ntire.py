"""``evaluation_ntire.py``: score a folder against its references; write ``output.txt`` (and a submission zip)."""
from __future__ import annotations

import argparse
import sys

from .common import add_pairing_arguments, add_scorer_arguments, check_outputs, make_scorer, pair_from_args
from .common import report_missing, run
from .common import score_with_progress


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

    from ..scoring import ntire_output_text, ntire_readme_text
    from ..scoring.outputs import write_ntire_zip
    from ..utils.atomic import atomic_write_text

    check_outputs(args.output, args.zip)
    pairing = pair_from_args(args)
    scorer = make_scorer(args)
    print(f"scoring {len(pairing.pairs)} pairs with {scorer.describe()}; scores {scorer.scale_description()}",
          file=sys.stderr)
    scores, elapsed = score_with_progress(scorer, pairing.pairs)
    output_text = ntire_output_text(pairing.names, scores)
    atomic_write_text(args.output, output_text)
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
    report_missing(pairing)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = ntire_parser().parse_args(argv)
    return run("evaluation_ntire.py", cmd_ntire, args)
