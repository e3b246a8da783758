"""Accuracy of the surrogate ranking network: the reference's test and two more distributions.

    python ranking_model/test.py                     # the shipped weights
    python ranking_model/test.py --weights my.weights.h5 --pairs 1000 --seed 0

For each distribution, 1000 pairs of 16-vectors are drawn; the table gives
the mean and the largest |true Spearman rho - surrogate rho| (true: scipy's
spearmanr; surrogate: 1 - 6 sum d^2 / (16 (16^2 - 1)) on the network's
ranks), the network's mean absolute rank error, and the "floor": what the
formula itself misses with exact average ranks (not 0 when there are ties).
Exits with status 1 when a mean exceeds its target (0.03, 0.03, 0.05).
"""
import argparse
import os
import sys

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))

from iqa_keras.ranking import (  # noqa: E402
    ACCURACY_TARGETS,
    SHIPPED_WEIGHTS,
    evaluate_ranking_network,
    format_evaluation,
    load_ranking_network,
)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--weights", default=str(SHIPPED_WEIGHTS), help="a .weights.h5 from ranking_model/train.py")
    parser.add_argument("--pairs", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    results = evaluate_ranking_network(load_ranking_network(args.weights), pairs=args.pairs, seed=args.seed)
    print(f"weights: {args.weights}")
    print(format_evaluation(results))
    failed = [name for name, row in results.items() if row["mae"] > ACCURACY_TARGETS[name]]
    if failed:
        print(f"above target: {', '.join(failed)}")
        return 1
    print("all within target")
    return 0


if __name__ == "__main__":
    sys.exit(main())
