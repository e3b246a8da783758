"""Train the 16-wide surrogate ranking network on score vectors generated on the fly.

    python ranking_model/train.py                       # defaults: < 45 min on a 2-core CPU
    python ranking_model/train.py --output my.weights.h5 --epochs 30 --samples-per-epoch 400000

Writes the best-validation weights to --output (default runs/ranking16.weights.h5;
the package ships iqa_keras/weights/ranking16.weights.h5) and prints progress per epoch.
Afterwards ``python ranking_model/test.py --weights <file>`` reports its accuracy.
"""
import argparse
import os
import sys

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))

from iqa_keras.ranking import SHIPPED_WEIGHTS, evaluate_ranking_network, format_evaluation, load_ranking_network, train_ranking_network  # noqa: E402


def main(argv=None) -> int:
    from iqa_keras.utils.logs import show_messages

    show_messages()
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--output", default="runs/ranking16.weights.h5",
                        help=f"weights file to write (.weights.h5); the shipped one is {SHIPPED_WEIGHTS}")
    parser.add_argument("--samples-per-epoch", type=int, default=500_000)
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument("--decay-every", type=int, default=4, help="epochs between learning-rate steps")
    parser.add_argument("--decay-factor", type=float, default=0.3, help="learning-rate multiplier at each step")
    parser.add_argument("--validation-samples", type=int, default=20_000)
    parser.add_argument("--tie-fraction", type=float, default=0.25,
                        help="share of training vectors rounded onto a grid so that they contain ties")
    parser.add_argument("--initial-weights", default=None, help="continue from these weights")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-test", action="store_true", help="skip the accuracy test at the end")
    args = parser.parse_args(argv)
    train_ranking_network(
        args.output,
        samples_per_epoch=args.samples_per_epoch,
        epochs=args.epochs,
        batch_size=args.batch_size,
        learning_rate=args.learning_rate,
        decay_every=args.decay_every,
        decay_factor=args.decay_factor,
        validation_samples=args.validation_samples,
        tie_fraction=args.tie_fraction,
        seed=args.seed,
        initial_weights=args.initial_weights,
    )
    if not args.no_test:
        print(format_evaluation(evaluate_ranking_network(load_ranking_network(args.output))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
