#!/usr/bin/env python3
"""bfloat16 against float32 scoring: score differences, ranking against MOS, and speed, in one run.

Scores the demo config's validation pairs of the embedded set (the 70 pairs
of its two held-out photographs, 288 x 288) with each model in float32 and
in bfloat16 (``Scorer(precision=...)``), alternating the two over
``--rounds`` rounds after an untimed warm-up, and prints for each model: the
largest and mean |bf16 - fp32| score difference (on the model's 1-5 scale),
SRCC against the pairs' MOS in each precision, and the median scoring time
of each with their ratio.

    python benchmarks/precision_check.py [--models models/pretrained_fr.keras ...] [--tta none] [--rounds 3]
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def validation_pairs():
    """(ref path, dist path) pairs and MOS of the demo config's validation split."""
    from iqa_keras.config import load_config
    from iqa_keras.training import prepare_data

    records = prepare_data(load_config("demo_fr_simple")).records["val"]
    return list(zip(records["ref"], records["dist"])), records["mos"].to_numpy()


def timed_scores(scorer, pairs):
    started = time.perf_counter()
    scores = scorer.score_pairs(pairs)
    return scores, time.perf_counter() - started


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="+", default=[str(ROOT / "models" / "pretrained_fr.keras"),
                                                        str(ROOT / "models" / "demo" / "demo_fr_simple.keras")])
    parser.add_argument("--tta", default="none", help="TTA of both precisions (default: none)")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from scipy import stats

    from iqa_keras import Scorer

    pairs, mos = validation_pairs()
    print(f"{len(pairs)} validation pairs of the embedded set (demo_fr_simple's split); TTA {args.tta}; "
          f"{args.rounds} rounds; {os.cpu_count()} CPUs")
    print(f"{'model':<24} {'max|diff|':>9} {'mean|diff|':>10} {'SRCC fp32':>9} {'SRCC bf16':>9} "
          f"{'fp32 s':>7} {'bf16 s':>7} {'speed-up':>8}")
    for path in args.models:
        scorers = {p: Scorer(path, tta=args.tta, precision=p) for p in ("fp32", "bf16")}
        for scorer in scorers.values():
            scorer.score_pairs(pairs[:2])  # warm-up: graph tracing is not timed
        times = {p: [] for p in scorers}
        scores = {}
        for _ in range(args.rounds):
            for name, scorer in scorers.items():
                scores[name], seconds = timed_scores(scorer, pairs)
                times[name].append(seconds)
        diff = np.abs(scores["bf16"] - scores["fp32"])
        srcc = {p: stats.spearmanr(scores[p], mos)[0] for p in scorers}
        fp32_s, bf16_s = np.median(times["fp32"]), np.median(times["bf16"])
        print(f"{Path(path).stem:<24} {diff.max():>9.4f} {diff.mean():>10.4f} {srcc['fp32']:>9.4f} "
              f"{srcc['bf16']:>9.4f} {fp32_s:>7.2f} {bf16_s:>7.2f} {fp32_s / bf16_s:>7.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
