"""What one run of the experiment depends on, its checks, and its command-line arguments.

Two profiles set the defaults (``--profile``): "default", sized for a CPU and
made stable by measured choices (docs/bias-aware.md), and "reference", the
reference implementation's own settings (its ``opts`` and data handling):
224-pixel crops of the images as they are, a full-width ResNet-18 with
ImageNet input normalisation, Adam 1e-4, batch 32 dropping the last partial
batch, one random crop (with a random flip) of every training image per
epoch, up to 1000 epochs with early stopping after 100, validation on the
centre crop, bias fits on one random crop of every training image (the
reference predicted its augmented training set), r_th 0.7, no MSE term, no
slope bound, third-order fits constrained at ``arange(1, 5, 0.001)``, blur
with ``mode="nearest"`` borders, and the tables' datasets given the four
biases in the order they first appear. Any flag given on the command line
overrides its profile's value.
"""
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
    max_side: int = 768  # 0: images as they are
    seed: int = 0
    out: str | None = None
    verbose: int = 1
    # What differs between the profiles beyond the numbers above (set by the profile, see PROFILES).
    profile: str = "default"
    blur_mode: str = "reflect"  # scipy.ndimage border mode of the Gaussian blur
    input_normalization: str = "symmetric"  # resnet18's: "symmetric" or "imagenet"
    eval_crop: str = "grid"  # validation predictions: mean of the eval_grid^2 grid, or "center": the centre crop
    train_predictions: str = "grid"  # bias fits on the grid's mean, or "random": one random crop (and flip) each
    drop_last: bool = False  # drop the last partial training batch of every epoch
    bias_order: str = "name"  # which true bias a table's dataset gets: by its name's number, or "first_appearance"
    constraint_grid: list | None = None  # [low, high, step] of the third-order fits' f' >= 0 points

    def fingerprint(self) -> dict:
        """The options that define the run (a resumed run must match them)."""
        values = dataclasses.asdict(self)
        for key in ("out", "verbose", "epochs"):
            values.pop(key)
        return values


PROFILES = {
    "default": {},
    "reference": {
        "r_th": 0.7, "mse_weight": 0.0, "max_slope": None, "epochs": 1000, "patience": 100, "crop_size": 224,
        "width": 64, "batch_size": 32, "crops_per_image": 1, "learning_rate": 1e-4, "eval_grid": 1, "max_side": 0,
        "blur_mode": "nearest", "input_normalization": "imagenet", "eval_crop": "center",
        "train_predictions": "random", "drop_last": True, "bias_order": "first_appearance",
        "constraint_grid": [1.0, 5.0, 0.001],
    },
}
CHOICES = {"blur_mode": ("reflect", "nearest"), "input_normalization": ("symmetric", "imagenet"),
           "eval_crop": ("grid", "center"), "train_predictions": ("grid", "random"),
           "bias_order": ("name", "first_appearance")}


def profile_options(profile: str = "default", **changes) -> ExperimentOptions:
    """The options of a profile ("default" or "reference"), with ``changes`` on top."""
    if profile not in PROFILES:
        raise ValueError(f"--profile: expected one of {', '.join(PROFILES)}, got {profile!r}")
    return ExperimentOptions(**{**PROFILES[profile], "profile": profile, **changes})


def check_options(options: ExperimentOptions) -> None:
    from ...training.bias import BIAS_FUNCTIONS

    if options.bias_fun not in BIAS_FUNCTIONS:
        raise ValueError(f"--bias-fun: expected one of {', '.join(BIAS_FUNCTIONS)}, got {options.bias_fun!r}")
    if options.profile not in PROFILES:
        raise ValueError(f"--profile: expected one of {', '.join(PROFILES)}, got {options.profile!r}")
    for name, allowed in CHOICES.items():
        if getattr(options, name) not in allowed:
            raise ValueError(f"{name}: expected one of {', '.join(allowed)}, got {getattr(options, name)!r}")
    positive = {"--epochs": options.epochs, "--crop-size": options.crop_size, "--width": options.width,
                "--batch-size": options.batch_size, "--crops-per-image": options.crops_per_image,
                "--learning-rate": options.learning_rate, "--eval-grid": options.eval_grid}
    for flag, value in positive.items():
        if value <= 0:
            raise ValueError(f"{flag}: expected a positive number, got {value!r}")
    if options.crop_size < 32:
        raise ValueError(f"--crop-size: at least 32 pixels, got {options.crop_size}")
    if options.max_side < 0:
        raise ValueError(f"--max-side: expected 0 (no limit) or a positive number, got {options.max_side}")
    if options.max_side and options.max_side < options.crop_size:
        raise ValueError(f"--max-side ({options.max_side}) must be at least --crop-size ({options.crop_size})")


# --------------------------------------------------------------------------- figures


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``iqa-keras experiment bias-blur`` options; unset flags take their ``--profile``'s value."""
    d, r = ExperimentOptions(), profile_options("reference")

    def both(name) -> str:
        return f"default {getattr(d, name)}; reference profile {getattr(r, name)}"

    unset = argparse.SUPPRESS  # absent from the namespace unless given: the profile decides
    parser.add_argument("--profile", choices=tuple(PROFILES), default="default",
                        help="default: the CPU-sized, stabilised settings; reference: the reference "
                        "implementation's own settings (see the module docstring and docs/reproducing.md)")
    parser.add_argument("--refs", default=unset,
                        help="folder of reference images (default: the embedded scikit-image photos); "
                        "the paper's tables bias_loss_iqb_train.csv/_val.csv beside it or in its parent are used "
                        "when present, e.g. --refs ../shared/data/live_refimgs")
    parser.add_argument("--train-table", default=unset, help="CSV src_image,sigma,db of the training samples")
    parser.add_argument("--val-table", default=unset, help="CSV src_image,sigma,db of the validation samples")
    parser.add_argument("--bias-fun", choices=("first_order", "third_order"), default=unset,
                        help=f"({both('bias_fun')})")
    parser.add_argument("--r-th", type=float, default=unset,
                        help=f"training Pearson r that starts the bias estimation; 1 = plain MSE ({both('r_th')})")
    parser.add_argument("--anchor-db", default=unset,
                        help=f"dataset whose bias stays the identity; 'none' for none ({both('anchor_db')})")
    parser.add_argument("--mse-weight", type=float, default=unset,
                        help=f"weight of the plain MSE term ({both('mse_weight')}; 0 with --r-th 1, "
                        "so that --r-th 1 is exactly plain MSE training as in the reference)")
    parser.add_argument("--max-slope", type=_optional_float, default=unset,
                        help=f"upper bound on each estimated f'; 'none' = unbounded, as the reference "
                        f"({both('max_slope')})")
    parser.add_argument("--unbiased", action="store_true", default=unset,
                        help="train on the true (unbiased) MOS of every dataset: the ceiling for the bias-aware loss")
    parser.add_argument("--epochs", type=int, default=unset, help=f"epoch budget ({both('epochs')})")
    parser.add_argument("--patience", type=int, default=unset,
                        help=f"early stopping on validation r; 0 = never ({both('patience')})")
    parser.add_argument("--crop-size", type=int, default=unset, help=f"({both('crop_size')})")
    parser.add_argument("--width", type=int, default=unset,
                        help=f"ResNet-18 first-stage channels, 64 = standard ({both('width')})")
    parser.add_argument("--batch-size", type=int, default=unset, help=f"({both('batch_size')})")
    parser.add_argument("--crops-per-image", type=int, default=unset,
                        help=f"random crops of each training image per epoch ({both('crops_per_image')})")
    parser.add_argument("--learning-rate", type=float, default=unset, help=f"({both('learning_rate')})")
    parser.add_argument("--eval-grid", type=int, default=unset,
                        help=f"predictions average a fixed N x N grid of crops per image ({both('eval_grid')}; "
                        "the reference profile predicts the centre crop)")
    parser.add_argument("--max-side", type=int, default=unset,
                        help=f"larger references are reduced first; 0 = never ({both('max_side')})")
    parser.add_argument("--seed", type=int, default=unset)
    parser.add_argument("--out", default=unset, help="output folder: results.csv, figures, best.keras, resume state")
    parser.add_argument("--quiet", action="store_true", help="print only errors")


def _optional_float(text: str) -> float | None:
    """A number, or None for 'none'."""
    if text.strip().lower() == "none":
        return None
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number or 'none', got {text!r}") from None


FLAGS = ("refs", "train_table", "val_table", "bias_fun", "r_th", "anchor_db", "mse_weight", "max_slope",
         "unbiased", "epochs", "patience", "crop_size", "width", "batch_size", "crops_per_image", "learning_rate",
         "eval_grid", "max_side", "seed", "out")


def options_from_args(args: argparse.Namespace) -> ExperimentOptions:
    """The options of a parsed command line: its profile's values, with every flag given on top."""
    given = {name: value for name, value in vars(args).items() if name in FLAGS}
    if "anchor_db" in given and str(given["anchor_db"]).lower() in ("none", ""):
        given["anchor_db"] = None
    if "mse_weight" not in given and given.get("r_th", 0.0) >= 1:
        given["mse_weight"] = 0.0  # --r-th 1 never estimates biases: plain MSE, without the extra term
    return profile_options(getattr(args, "profile", "default"), **given,
                           verbose=0 if getattr(args, "quiet", False) else 1)
