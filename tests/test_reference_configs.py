"""configs/reference/: every value the reference recipes fix, checked against values written here.

The expected values below are copied by hand from the recipes themselves (the
NTIRE 2021 reference's configs_simple/bn/attention/tiled files and training
scripts, the two NIMA reproductions' texts), never read from our configs, so a
config that drifts from its recipe fails here.
"""
import math
import types
from pathlib import Path

import pytest

from iqa_keras.config import load_config
from iqa_keras.training.optimizers import schedule_callbacks

REFERENCE = Path(__file__).resolve().parents[1] / "configs" / "reference"

# ---------------------------------------------------------------- the NTIRE 2021 FR recipes
MODEL_1 = dict(nfs=[8, 16, 32, 64, 64, 64, 32, 16, 8, 16], alpha=0.7, l2=[0.0, 1e-2])
MODEL_2 = dict(nfs=[8, 16, 32, 64, 64, 64, 32, 16, 8, 32], alpha=0.5, l2=[1e-6, 1e-4])
PRETRAIN, PIPAL = "pretrain", "pipal"
FR = {
    # name: architecture, hyper-parameters, mse_factor, spearman_factor, learning rate, epochs, drop every,
    #       data (pretraining sets or PIPAL), the stage whose weights it starts from
    "fr_simple_model1_pretrain": ("fr_simple", MODEL_1, 0.1, 0.1, 1e-4, 25, 10, PRETRAIN, None),
    "fr_simple_model1": ("fr_simple", MODEL_1, 0.1, 0.1, 1e-4, 30, 10, PIPAL, "fr_simple_model1_pretrain"),
    "fr_simple_model2_pretrain": ("fr_simple", MODEL_2, 0.5, 0.1, 1e-4, 20, 10, PRETRAIN, None),
    "fr_simple_model2": ("fr_simple", MODEL_2, 0.5, 0.1, 1e-4, 30, 10, PIPAL, "fr_simple_model2_pretrain"),
    "fr_simple_model3": ("fr_simple", MODEL_1, 0.1, 0.1, 1e-4, 30, 10, PIPAL, None),
    "fr_simple_model4": ("fr_simple", MODEL_2, 0.5, 0.1, 1e-4, 30, 10, PIPAL, None),
    "fr_simple_model123": ("fr_simple", MODEL_2, 0.01, 0.0, 1e-4, 123, 30, PIPAL, None),
    "fr_simple_model114": ("fr_simple", MODEL_2, 0.01, 0.0, 1e-4, 114, 30, PIPAL, None),
    "fr_bn_pretrain": ("fr_bn", MODEL_2, 0.5, 0.1, 1e-4, 20, 10, PRETRAIN, None),
    "fr_bn_train": ("fr_bn", MODEL_2, 0.01, 0.1, 1e-4, 50, 15, PIPAL, "fr_bn_pretrain"),
    "fr_attention_pretrain": ("fr_attention", MODEL_2, 1.0, 0.01, 1e-4, 20, 10, PRETRAIN, None),
    "fr_attention_train": ("fr_attention", MODEL_2, 1.0, 0.01, 1e-4, 20, 10, PIPAL, "fr_attention_pretrain"),
    "fr_tiled_pretrain": ("fr_tiled", MODEL_2, 0.5, 0.1, 1e-5, 16, 10, PRETRAIN, None),
    "fr_tiled_train": ("fr_tiled", MODEL_2, 0.2, 0.1, 1e-4, 30, 15, PIPAL, "fr_tiled_pretrain"),
}
# The reference's per-dataset standardisation and crop/pad (its preparation scripts).
PRETRAIN_SETS = [("pieapp", [0.47, 0.26], "pad"), ("tid2008", [4.47, 1.30], "center"),
                 ("tid2013", [4.47, 1.30], "center")]
PIPAL_SETS = [("pipal", [1449.05, 121.35], "center")]


def _reference_rate(lr0, epoch, drop_every):
    """The reference's step_decay: lr0 * 0.1 ** floor((1 + epoch) / drop_every), epochs from 0."""
    return lr0 * math.pow(0.1, math.floor((1 + epoch) / drop_every))


def test_every_reference_config_is_checked():
    names = {p.stem for p in REFERENCE.glob("*.toml")}
    assert names == set(FR) | set(NIMA)


@pytest.mark.parametrize("name", sorted(FR))
def test_fr_reference_config_is_the_recipe(name):
    arch, hp, mse, spearman, lr, epochs, drop_every, data, initial = FR[name]
    config = load_config(REFERENCE / f"{name}.toml")
    model = config.model
    assert model.architecture == arch and model.input_size == 288
    assert model.hyper_parameters["nfs"] == hp["nfs"] and model.hyper_parameters["kss"] == [5, 5, 3, 3]
    assert model.hyper_parameters["alpha"] == hp["alpha"]
    assert model.hyper_parameters["l2"] == pytest.approx(hp["l2"])
    assert model.hyper_parameters["dense_num"] == 32 and model.hyper_parameters["drop_out"] == 0.0
    if arch == "fr_attention":
        assert model.hyper_parameters["num_resblocks"] == 3 and model.hyper_parameters["attention_flag"] is True
    if arch == "fr_tiled":
        assert (model.hyper_parameters["tile_size"], model.hyper_parameters["lstm_units"]) == (72, 32)
        assert model.hyper_parameters["lstm_gate"] == "hard_sigmoid"  # TensorFlow 2.4's ConvLSTM2D default
    # The loss: mse_factor MSE + (1 - mse_factor)(1 - r^2) + spearman_factor rank term.
    assert config.loss.name == "fr_loss"
    assert config.loss.options["squared_pearson"] is True
    assert config.loss.options["mse_factor"] == mse and config.loss.options["spearman_factor"] == spearman
    # Adam, batch 16, lr x 0.1 at floor((1 + epoch) / drop): every epoch's rate.
    assert config.optimizer.name == "adam" and config.train.batch_size == 16
    assert config.train.epochs == epochs and config.optimizer.learning_rate == lr
    assert not config.optimizer.phases
    (decay,) = schedule_callbacks(config, types.SimpleNamespace(optimizer=None))
    assert [decay.rate(e) for e in range(epochs)] == pytest.approx(
        [_reference_rate(lr, e, drop_every) for e in range(epochs)], rel=1e-12)
    # The best epoch by validation loss.
    assert (config.train.monitor, config.train.monitor_mode) == ("val_loss", "min")
    # Stages chain by initial weights: the pretraining run's best model.
    if initial is None:
        assert config.train.initial_weights is None
    else:
        stage = load_config(REFERENCE / f"{initial}.toml")
        assert Path(config.train.initial_weights) == stage.run_dir() / "best.keras"
        assert FR[initial][1] == hp and FR[initial][0] == arch
    datasets = [(d.name, d.score_norm, d.crop) for d in config.data.datasets]
    augment = config.augment
    if data == PRETRAIN:
        assert [(n, c) for n, _, c in datasets] == [(n, c) for n, _, c in PRETRAIN_SETS]
        for (_, norm, _), (_, expected, _) in zip(datasets, PRETRAIN_SETS):
            assert norm == pytest.approx(expected)
        pieapp = config.data.datasets[0]
        assert pieapp.options == {"aggregate": "none"}  # one row per labelled comparison
        # The pretraining generator: rot90 and left-right flips, no intensity change.
        assert (augment.enabled, augment.rot90, augment.flip_lr, augment.flip_ud) == (True, True, True, False)
        assert augment.lightness == []
    else:
        assert [(n, c) for n, _, c in datasets] == [(n, c) for n, _, c in PIPAL_SETS]
        assert datasets[0][1] == pytest.approx(PIPAL_SETS[0][1])
        # PIPAL: rot90, both flips, and one extra copy of each pair with L x U(0.3, 1.5), made once.
        assert (augment.enabled, augment.rot90, augment.flip_lr, augment.flip_ud) == (True, True, True, True)
        assert augment.lightness == pytest.approx([0.3, 1.5])
        assert augment.lightness_policy == "offline_copy"


def test_pipal_epoch_is_twice_the_pairs_with_offline_copies(tmp_path):
    """The reference's PIPAL epoch held every pair twice (the original and its lightness copy)."""
    from helpers import write_pipal
    from iqa_keras.training import prepare_data
    from iqa_keras.training.data import augment_options

    root = write_pipal(tmp_path / "pipal", refs=(1, 2, 3, 4, 5))
    config = load_config(REFERENCE / "fr_bn_train.toml", [f"data.datasets.0.root={root}"])
    copied = prepare_data(config)
    plain = prepare_data(load_config(REFERENCE / "fr_bn_train.toml", [
        f"data.datasets.0.root={root}", 'augment.lightness_policy="on_the_fly"']))
    assert len(copied.records["train"]) == 2 * len(plain.records["train"])
    assert len(copied.records["val"]) == len(plain.records["val"])  # validation is not copied
    factors = copied.records["train"]["lightness_factor"].to_numpy()
    half = len(factors) // 2
    assert (factors[:half] == 0).all() and ((factors[half:] >= 0.3) & (factors[half:] <= 1.5)).all()
    # No new factor per epoch on top of the copies.
    assert augment_options(config)["lightness"] is None
    assert augment_options(load_config(REFERENCE / "fr_bn_train.toml", ['augment.lightness_policy="on_the_fly"'])
                           )["lightness"] == (0.3, 1.5)


def test_squared_pearson_config_gives_one_minus_r_squared(rng):
    """model-123's loss (no rank term): 0.01 MSE + 0.99 (1 - r^2), r from numpy."""
    import numpy as np

    from iqa_keras.registry import LOSSES

    config = load_config(REFERENCE / "fr_simple_model123.toml")
    loss = LOSSES.get(config.loss.name)(**config.loss.options)
    for y_true, y_pred in ((rng.normal(size=16), rng.normal(size=16)),
                           (np.linspace(-1, 1, 16), -2 * np.linspace(-1, 1, 16) + 0.3)):  # r = -1 too
        r = np.corrcoef(y_true, y_pred)[0, 1]
        expected = 0.01 * np.mean((y_true - y_pred) ** 2) + 0.99 * (1 - r**2)
        got = float(loss(y_true[:, None].astype("float32"), y_pred[:, None].astype("float32")))
        assert got == pytest.approx(expected, rel=1e-4, abs=1e-6)


# ---------------------------------------------------------------- the NIMA reproductions
NIMA = {
    # The Keras NIMA reproduction on AVA (its text): MobileNetV2, batch 16, resize 256 then random 224 crops
    # and left-right flips (vanilla) or random 224 patches (patches, + Pearson of the means), EMD + the
    # moments' MSE, 1 epoch at 1e-3 with the base frozen, then 4 at 1e-4, 12 at 5e-6, 1 at 5e-7; idealo's lists.
    "nima_ava_vanilla": dict(backbone="MobileNetV2", resize=256, pearson=0.0),
    "nima_ava_patches": dict(backbone="MobileNetV2", resize=None, pearson=1.0),
    # Its TID2013 model: regression with a features layer, first 3 references held out, 224 patches.
    "nima_tid2013_regression": dict(backbone="MobileNetV2"),
    # The PyTorch NIMA reproduction on TID2013: Adam 3.7e-5 head / 1.4e-4 backbone, patience 10, 70/20/10.
    "nima_tid2013": dict(backbone="MobileNetV2"),
}


@pytest.mark.parametrize("name", ["nima_ava_vanilla", "nima_ava_patches"])
def test_nima_ava_reference_configs(name):
    config = load_config(REFERENCE / f"{name}.toml")
    assert config.model.architecture == "nima" and config.model.input_size == 224
    assert config.model.hyper_parameters["backbone"] == NIMA[name]["backbone"]
    assert config.train.batch_size == 16
    (ava,) = config.data.datasets
    assert ava.name == "ava" and ava.crop == "random" and ava.resize == NIMA[name]["resize"]
    assert ava.options["split_lists"] == {"train": "ava_labels_train.json", "val": "ava_labels_test.json"}
    assert ava.split == "official"
    assert (config.augment.flip_lr, config.augment.rot90, config.augment.flip_ud) == (True, False, False)
    assert config.loss.name == "nima" and config.loss.options["r"] == 2
    assert config.loss.options["moments_weight"] > 0
    assert config.loss.options.get("pearson_weight", 0.0) == NIMA[name]["pearson"]
    # The phases: frozen base at 1e-3 for one epoch, then 4 x 1e-4, 12 x 5e-6, 1 x 5e-7.
    expected = [1e-3] + [1e-4] * 4 + [5e-6] * 12 + [5e-7]
    assert config.train.epochs == len(expected) == 18 and config.train.freeze_backbone_epochs == 1
    (rates,) = schedule_callbacks(config, types.SimpleNamespace(optimizer=None))
    assert [rates.rate(e) for e in range(18)] == pytest.approx(expected)


def test_nima_tid2013_reference_configs():
    config = load_config(REFERENCE / "nima_tid2013_regression.toml")
    assert config.model.architecture == "nima_regression" and config.loss.name == "mse"
    (tid,) = config.data.datasets
    assert tid.options == {"hold_out_first": 3} and tid.split == "official" and tid.crop == "random"
    assert config.train.freeze_backbone_epochs == 4
    (rates,) = schedule_callbacks(config, types.SimpleNamespace(optimizer=None))
    assert [rates.rate(e) for e in (0, 3, 4, 303)] == pytest.approx([1e-3, 1e-3, 1e-5, 1e-5])

    config = load_config(REFERENCE / "nima_tid2013.toml")
    assert config.model.architecture == "nima" and config.loss.name == "nima" and config.loss.options["r"] == 2
    assert config.model.hyper_parameters["dropout"] == 0.75
    assert (config.optimizer.learning_rate, config.optimizer.backbone_learning_rate) == (3.7e-5, 1.4e-4)
    assert config.train.early_stopping_patience == 10 and config.train.monitor == "val_loss"
    assert config.data.datasets[0].fractions == {"train": 0.7, "val": 0.2, "test": 0.1}
    assert config.nima.targets == "max_entropy"


# ---------------------------------------------------------------- the bias-aware experiment
def test_bias_blur_reference_profile_is_the_reference_script():
    """`iqa-keras experiment bias-blur --profile reference`: the reference implementation's opts and data handling."""
    from iqa_keras.cli import build_parser
    from iqa_keras.experiments.bias_blur import options_from_args

    options = options_from_args(build_parser().parse_args(["experiment", "bias-blur", "--profile", "reference"]))
    # opts: lr 1e-4, batch 32, 1000 epochs, early stop 100, resnet18 from scratch, first_order, r_th 0.7,
    # anchor train_1, mse_weight 0; transforms: RandomCrop(224) + flip, CenterCrop(224) for evaluation,
    # ImageNet Normalize; skimage gaussian (mode "nearest"); DataLoader(drop_last=True).
    assert (options.learning_rate, options.batch_size, options.epochs, options.patience) == (1e-4, 32, 1000, 100)
    assert (options.crop_size, options.width) == (224, 64)
    assert (options.bias_fun, options.r_th, options.anchor_db, options.mse_weight) == ("first_order", 0.7,
                                                                                         "train_1", 0.0)
    assert options.max_slope is None
    assert options.crops_per_image == 1 and options.drop_last is True and options.max_side == 0
    assert (options.eval_crop, options.input_normalization, options.blur_mode) == ("center", "imagenet", "nearest")
    assert options.train_predictions == "random"
    assert options.constraint_grid == [1.0, 5.0, 0.001]  # f' >= 0 at arange(1, 5, 0.001)
    assert options.bias_order == "first_appearance"
    # A flag still overrides its profile's value; the default profile is unchanged.
    parser = build_parser()
    assert options_from_args(parser.parse_args(["experiment", "bias-blur", "--profile", "reference",
                                                "--epochs", "3"])).epochs == 3
    default = options_from_args(parser.parse_args(["experiment", "bias-blur"]))
    assert (default.profile, default.crop_size, default.r_th, default.blur_mode) == ("default", 128, 0.5, "reflect")
