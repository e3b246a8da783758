"""What the scoring commands share: model and pairing options, error handling, progress, pair lists."""
from __future__ import annotations

import argparse
import csv
import os
import sys
import time

from ..scoring.pairing import PAIR_RULES
from ..scoring.tta import TTA_SETS

MODELS_HELP = (
    "a .keras model file, or a folder whose .keras files form an ensemble "
    "(default: the shipped models/ folder)"
)


def run(prog: str, func, args) -> int:
    """Runs a command; an error becomes one line on stderr (see :mod:`.errors`) and its exit status."""
    from ..utils.logs import show_messages
    from .errors import report

    show_messages()
    try:
        return func(args)
    except KeyboardInterrupt:
        print(f"{prog}: interrupted; no output written", file=sys.stderr)
        return 130
    except Exception as error:  # noqa: BLE001 - every error ends as one line and a status, never a traceback
        return report(prog, error)


def check_outputs(*paths) -> None:
    """Every output path given (None: not asked for) can be written; checked before any work starts."""
    from ..utils.paths import check_output_file

    for path in paths:
        if path:
            check_output_file(path)


def add_scorer_arguments(parser: argparse.ArgumentParser, default_tta: str) -> None:
    """Options every scoring command shares."""
    choice = parser.add_mutually_exclusive_group()
    choice.add_argument("--models", help=MODELS_HELP)
    choice.add_argument("--preset", help="a preset name (see `iqa-keras models`), checked against its sha256")
    parser.add_argument("--preset-dir", help="the folder --preset names a model in (default: the shipped models)")
    parser.add_argument(
        "--tta", default=default_tta,
        help=f"test-time augmentation: {', '.join(TTA_SETS)}, or a custom list such as "
        f"'identity,rot90,flip_lr,lightness:0.5' (default: {default_tta})",
    )
    parser.add_argument("--stride", type=int, help="patch stride in pixels for larger images (default: input size / 2)")
    parser.add_argument("--pooling", choices=("mean", "texture", "worst30"),
                        help="how patch scores become one score: their mean, their mean weighted by the "
                        "reference's texture, or the mean of the worst 30%% (default: the rule each model records)")
    parser.add_argument("--batch-size", type=int, default=8, help="patch pairs per graph call (default: 8)")
    parser.add_argument("--precision", choices=("fp32", "bf16"), default="fp32",
                        help="arithmetic of the networks: fp32, or bf16 (bfloat16 on float32 weights; faster on "
                        "CPUs with AVX512-BF16, scores within a few thousandths; default: fp32)")
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


def make_scorer(args: argparse.Namespace, **options):
    from ..scoring import Scorer

    options = dict(tta=args.tta, stride=args.stride, batch_size=args.batch_size, workers=args.workers,
                   pooling=getattr(args, "pooling", None), precision=getattr(args, "precision", "fp32"), **options)
    if getattr(args, "preset", None):
        return Scorer.from_preset(args.preset, args.preset_dir, **options)
    if getattr(args, "preset_dir", None):
        raise ValueError("--preset-dir needs --preset NAME")
    return Scorer(args.models, **options)


def single_model_from_args(args, needed: str):
    """The one model file ``--preset`` (checked against its manifest) or ``--models`` names; ``needed`` says why one is needed."""
    if getattr(args, "preset", None):
        from ..presets import get_preset

        return get_preset(args.preset, args.preset_dir).path
    if args.models is None:
        raise ValueError(needed)
    return args.models


def pair_from_args(args):
    from ..scoring import pair_folders

    if not (args.ref_dir and args.dist_dir):
        raise ValueError("--ref-dir and --dist-dir go together")
    return pair_folders(args.ref_dir, args.dist_dir, rule=args.pair_rule, skip_missing=args.skip_missing)


def score_with_progress(scorer, pairs) -> tuple[list[float], float]:
    from ..utils.progress import ProgressBar

    bar = ProgressBar(len(pairs), unit="pairs")
    start = time.perf_counter()
    scores = scorer.score_pairs(pairs, progress=bar.update)
    return [float(s) for s in scores], time.perf_counter() - start


def report_missing(pairing) -> None:
    if pairing.missing:
        print(f"skipped {len(pairing.missing)} distorted image(s) with no reference:", file=sys.stderr)
        for dist, expected in pairing.missing:
            print(f"  {dist} (expected reference {expected})", file=sys.stderr)


def pairs_from_csv(path: str) -> list[tuple[str, str]]:
    """(ref, distorted) pairs listed in a CSV with columns ref,distorted (paths relative to the CSV's folder)."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f"pairs file not found: {path}")
    base = os.path.dirname(os.path.abspath(path))
    with open(path, newline="", encoding="utf-8-sig") as stream:  # a spreadsheet's byte-order mark is no column name
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
