"""What one run of the experiment depends on, its checks, and its command-line arguments."""
from __future__ import annotations

import argparse
import dataclasses


@dataclasses.dataclass
class ExperimentOptions:
    """Everything a run depends on (saved as ``options.json`` in the output folder)."""

    refs: str | None = None
    train_table: str | None = None
    val_table: str | None = None
    bias_fun: str = "first_order"
    r_th: float = 0.5  # the reference's 0.7 needs memorisation here (see the module docstring)
    anchor_db: str | None = "train_1"
    mse_weight: float = 0.5  # the reference's 0 lets the scales drift here
    max_slope: float | None = 3.0  # upper bound on f' (None: unbounded, as the reference; see the docstring)
    unbiased: bool = False  # train on the true MOS: the ceiling a bias correction can reach
    epochs: int = 80
    patience: int = 20
    crop_size: int = 128
    width: int = 16
    batch_size: int = 32
    crops_per_image: int = 8
    learning_rate: float = 1e-3
    eval_grid: int = 3
    max_side: int = 768
    seed: int = 0
    out: str | None = None
    verbose: int = 1

    def fingerprint(self) -> dict:
        """The options that define the run (a resumed run must match them)."""
        values = dataclasses.asdict(self)
        for key in ("out", "verbose", "epochs"):
            values.pop(key)
        return values


def check_options(options: ExperimentOptions) -> None:
    from ...training.bias import BIAS_FUNCTIONS

    if options.bias_fun not in BIAS_FUNCTIONS:
        raise ValueError(f"--bias-fun: expected one of {', '.join(BIAS_FUNCTIONS)}, got {options.bias_fun!r}")
    positive = {"--epochs": options.epochs, "--crop-size": options.crop_size, "--width": options.width,
                "--batch-size": options.batch_size, "--crops-per-image": options.crops_per_image,
                "--learning-rate": options.learning_rate, "--eval-grid": options.eval_grid,
                "--max-side": options.max_side}
    for flag, value in positive.items():
        if value <= 0:
            raise ValueError(f"{flag}: expected a positive number, got {value!r}")
    if options.crop_size < 32:
        raise ValueError(f"--crop-size: at least 32 pixels, got {options.crop_size}")
    if options.max_side < options.crop_size:
        raise ValueError(f"--max-side ({options.max_side}) must be at least --crop-size ({options.crop_size})")


# --------------------------------------------------------------------------- figures


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``iqa-keras experiment bias-blur`` options (defaults: ExperimentOptions)."""
    d = ExperimentOptions()
    parser.add_argument("--refs", help="folder of reference images (default: the embedded scikit-image photos); "
                        "the paper's tables bias_loss_iqb_train.csv/_val.csv beside it or in its parent are used "
                        "when present, e.g. --refs ../shared/data/live_refimgs")
    parser.add_argument("--train-table", help="CSV src_image,sigma,db of the training samples")
    parser.add_argument("--val-table", help="CSV src_image,sigma,db of the validation samples")
    parser.add_argument("--bias-fun", choices=("first_order", "third_order"), default=d.bias_fun)
    parser.add_argument("--r-th", type=float, default=d.r_th,
                        help=f"training Pearson r that starts the bias estimation; 1 = plain MSE (default {d.r_th})")
    parser.add_argument("--anchor-db", default=d.anchor_db,
                        help=f"dataset whose bias stays the identity; 'none' for none (default {d.anchor_db})")
    parser.add_argument("--mse-weight", type=float, default=None,
                        help=f"weight of the plain MSE term (default {d.mse_weight}; 0 with --r-th 1, "
                        "so that --r-th 1 is exactly plain MSE training as in the reference)")
    parser.add_argument("--max-slope", type=_optional_float, default=d.max_slope,
                        help=f"upper bound on each estimated f'; 'none' = unbounded, as the reference "
                        f"(default {d.max_slope})")
    parser.add_argument("--unbiased", action="store_true",
                        help="train on the true (unbiased) MOS of every dataset: the ceiling for the bias-aware loss")
    parser.add_argument("--epochs", type=int, default=d.epochs, help=f"epoch budget (default {d.epochs})")
    parser.add_argument("--patience", type=int, default=d.patience,
                        help=f"early stopping on validation r; 0 = never (default {d.patience})")
    parser.add_argument("--crop-size", type=int, default=d.crop_size)
    parser.add_argument("--width", type=int, default=d.width, help="ResNet-18 first-stage channels (64 = standard)")
    parser.add_argument("--batch-size", type=int, default=d.batch_size)
    parser.add_argument("--crops-per-image", type=int, default=d.crops_per_image,
                        help="random crops of each training image per epoch")
    parser.add_argument("--learning-rate", type=float, default=d.learning_rate)
    parser.add_argument("--eval-grid", type=int, default=d.eval_grid,
                        help="predictions average a fixed N x N grid of crops per image")
    parser.add_argument("--max-side", type=int, default=d.max_side, help="larger references are reduced first")
    parser.add_argument("--seed", type=int, default=d.seed)
    parser.add_argument("--out", help="output folder: results.csv, figures, best.keras, resume state")
    parser.add_argument("--quiet", action="store_true", help="print only errors")


def _optional_float(text: str) -> float | None:
    """A number, or None for 'none'."""
    if text.strip().lower() == "none":
        return None
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number or 'none', got {text!r}") from None


def options_from_args(args: argparse.Namespace) -> ExperimentOptions:
    anchor = None if str(args.anchor_db).lower() in ("none", "") else args.anchor_db
    mse_weight = args.mse_weight
    if mse_weight is None:  # --r-th 1 never estimates biases: plain MSE, without the extra term
        mse_weight = 0.0 if args.r_th >= 1 else ExperimentOptions.mse_weight
    return ExperimentOptions(
        refs=args.refs, train_table=args.train_table, val_table=args.val_table, bias_fun=args.bias_fun,
        r_th=args.r_th, anchor_db=anchor, mse_weight=mse_weight, max_slope=args.max_slope, unbiased=args.unbiased, epochs=args.epochs,
        patience=args.patience, crop_size=args.crop_size, width=args.width, batch_size=args.batch_size,
        crops_per_image=args.crops_per_image, learning_rate=args.learning_rate, eval_grid=args.eval_grid,
        max_side=args.max_side, seed=args.seed, out=args.out, verbose=0 if args.quiet else 1,
    )
