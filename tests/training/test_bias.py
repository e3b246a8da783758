"""Bias estimation, the bias-aware loss and its epoch-end updater (Mittag et al., QoMEX 2021).

Numbers are checked against the known polynomials the data were made with,
against closed-form least squares (numpy), or against hand computations.
"""
import json

import keras
import numpy as np
import pandas as pd
import pytest

from helpers import write_image, write_random_image
from iqa_keras.training.bias import (
    BiasAwareLoss,
    BiasUpdater,
    estimate_biases,
    evaluate_polynomial,
    fit_bias,
    fit_first_order,
    fit_third_order,
    indexed_targets,
)
from iqa_keras.training.callbacks import RunState

# The seed's four artificial biases (b0..b3).
SEED_BIASES = np.array([
    [0.0, 1.0, 0.0, 0.0],
    [0.5, 0.5, 0.0, 0.0],
    [3.0, 0.3, 0.0, 0.0],
    [-2.3, 5.03133896, -1.6883704, 0.19968759],
])
MOS_GRID = np.linspace(1.0, 5.0, 401)
IDENTITY = SEED_BIASES[0]  # f(x) = x


def _poly(coefficients, x):
    """b0 + b1 x + b2 x^2 + b3 x^3 by numpy (independent of evaluate_polynomial)."""
    return np.polynomial.polynomial.polyval(x, coefficients)


def test_first_order_recovers_known_line(rng):
    x = rng.uniform(1, 5, 300)
    for b0, b1 in [(0.5, 0.5), (3.0, 0.3), (-1.2, 2.5), (0.0, 1.0)]:
        fitted = fit_first_order(x, b0 + b1 * x)
        assert fitted[0] == pytest.approx(b0, abs=1e-3)
        assert fitted[1] == pytest.approx(b1, abs=1e-3)
        assert fitted[2] == fitted[3] == 0.0


def test_first_order_with_noise_matches_numpy_least_squares(rng):
    x = rng.uniform(1, 5, 200)
    y = 0.5 + 0.5 * x + rng.normal(0, 0.1, 200)
    slope, intercept = np.polyfit(x, y, 1)
    assert fit_first_order(x, y)[:2] == pytest.approx([intercept, slope], abs=1e-9)


def test_first_order_slope_is_never_negative(rng):
    x = rng.uniform(1, 5, 100)
    y = 4.0 - 0.7 * x
    fitted = fit_first_order(x, y)
    # Best line with slope >= 0 for decreasing data: the constant mean(y).
    assert fitted == pytest.approx([y.mean(), 0.0, 0.0, 0.0], abs=1e-12)


def test_third_order_recovers_monotone_cubic_on_mos_range(rng):
    x = rng.uniform(1, 5, 400)
    assert evaluate_polynomial(SEED_BIASES[3], x) == pytest.approx(_poly(SEED_BIASES[3], x), abs=1e-12)
    y = _poly(SEED_BIASES[3], x) + rng.normal(0, 0.02, x.size)
    fitted = fit_third_order(x, y, domain=(1, 5))
    error = np.abs(_poly(fitted, MOS_GRID) - _poly(SEED_BIASES[3], MOS_GRID))
    assert error.max() < 0.05
    # Without noise the cubic is recovered (it is monotone, so the constraint is inactive).
    exact = fit_third_order(x, _poly(SEED_BIASES[3], x), domain=(1, 5))
    assert exact == pytest.approx(SEED_BIASES[3], abs=1e-6)


def test_third_order_is_increasing_when_data_are_not(rng):
    x = np.sort(rng.uniform(1, 5, 300))
    y = 3.0 + np.sin(2.5 * x)  # goes up and down on [1, 5]
    fitted = fit_third_order(x, y, domain=(1, 5))
    slope = fitted[1] + 2 * fitted[2] * MOS_GRID + 3 * fitted[3] * MOS_GRID**2
    # f' >= 0 is enforced at 101 points (as the reference does); between them it may dip by round-off.
    assert slope.min() > -1e-4
    # The unconstrained cubic (numpy) decreases somewhere, so the constraint was active.
    free = np.polynomial.polynomial.polyfit(x, y, 3)
    assert (free[1] + 2 * free[2] * MOS_GRID + 3 * free[3] * MOS_GRID**2).min() < -0.1
    # Decreasing data: the best non-decreasing fit is the constant mean (isotonic regression).
    falling = fit_third_order(x, 5.0 - x, domain=(1, 5))
    assert _poly(falling, MOS_GRID) == pytest.approx(np.full(MOS_GRID.size, (5.0 - x).mean()), abs=1e-3)


def test_fit_bias_rejects_unknown_function_and_bad_input():
    with pytest.raises(ValueError, match="bias_fun"):
        fit_bias([1, 2, 3], [1, 2, 3], "second_order")
    with pytest.raises(ValueError, match="at least 4"):
        fit_third_order([1, 2, 3], [1, 2, 3])
    with pytest.raises(ValueError, match="finite"):
        fit_first_order([1, 2, np.nan], [1, 2, 3])


def _four_datasets(rng, per_dataset=60):
    truth = rng.uniform(1, 5, 4 * per_dataset)
    db = np.repeat(np.arange(4), per_dataset)
    mos = np.array([_poly(SEED_BIASES[d], t) for d, t in zip(db, truth)])
    return truth, mos, db


def test_estimate_biases_recovers_each_dataset_and_keeps_the_anchor(rng):
    truth, mos, db = _four_datasets(rng)
    # Dataset 0 is the anchor: even given data of another scale it stays the identity.
    mos[db == 0] = 2.0 + 0.5 * truth[db == 0]
    first = estimate_biases(truth, mos, db, 4, "first_order", anchor_index=0)
    assert first[0] == pytest.approx(IDENTITY)
    assert first[1] == pytest.approx(SEED_BIASES[1], abs=1e-3)
    assert first[2] == pytest.approx(SEED_BIASES[2], abs=1e-3)
    third = estimate_biases(truth, mos, db, 4, "third_order", anchor_index=0, domain=(1, 5))
    assert third[0] == pytest.approx(IDENTITY)
    for d in (1, 2, 3):
        error = np.abs(_poly(third[d], MOS_GRID) - _poly(SEED_BIASES[d], MOS_GRID))
        assert error.max() < 0.05
    # Without an anchor, dataset 0 gets its own line.
    free = estimate_biases(truth, mos, db, 4, "first_order", anchor_index=None)
    assert free[0][:2] == pytest.approx([2.0, 0.5], abs=1e-3)


def test_estimate_biases_keeps_previous_coefficients_of_an_absent_dataset(rng):
    truth, mos, db = _four_datasets(rng)
    keep = db != 2
    previous = np.tile(IDENTITY, (4, 1))
    previous[2] = [1.0, 2.0, 0.0, 0.0]
    result = estimate_biases(truth[keep], mos[keep], db[keep], 4, "first_order", previous=previous)
    assert result[2] == pytest.approx([1.0, 2.0, 0.0, 0.0])


def _numpy_bias_loss(y_true, y_pred, biases, mse_weight):
    mos, index = y_true[:, 0], y_true[:, 1].astype(int)
    p = y_pred[:, 0]
    b = biases[index]
    mapped = b[:, 0] + b[:, 1] * p + b[:, 2] * p**2 + b[:, 3] * p**3
    return np.mean((mapped - mos) ** 2 + mse_weight * (p - mos) ** 2)


@pytest.mark.parametrize("mse_weight", [0.0, 0.3])
def test_loss_matches_numpy(rng, mse_weight):
    biases = SEED_BIASES.copy()
    loss = BiasAwareLoss(mse_weight=mse_weight, max_datasets=4)
    loss.set_biases(biases)
    y_pred = rng.uniform(1, 5, (33, 1)).astype("float32")
    y_true = np.stack([rng.uniform(1, 5, 33), rng.integers(0, 4, 33)], axis=1).astype("float32")
    expected = _numpy_bias_loss(y_true.astype(float), y_pred.astype(float), biases, mse_weight)
    assert float(loss(y_true, y_pred)) == pytest.approx(expected, rel=1e-5)
    # Plain (B, 1) targets, as validation pipelines and other callbacks have: plain squared error.
    plain = float(loss(y_true[:, :1], y_pred))
    assert plain == pytest.approx(np.mean((y_pred[:, 0] - y_true[:, 0]) ** 2), rel=1e-5)


def test_loss_gradient_is_finite_on_degenerate_batches():
    import tensorflow as tf

    loss = BiasAwareLoss(bias_fun="third_order", max_datasets=4)
    loss.set_biases(SEED_BIASES)
    for size in (1, 2, 16, 17):
        y_pred = tf.Variable(np.full((size, 1), 2.0, "float32"))
        y_true = np.stack([np.full(size, 3.0), np.arange(size) % 4], axis=1).astype("float32")
        with tf.GradientTape() as tape:
            value = loss(y_true, y_pred)
        gradient = tape.gradient(value, y_pred)
        assert np.isfinite(float(value)) and np.isfinite(gradient.numpy()).all()


def test_loss_serializes_with_its_biases():
    loss = BiasAwareLoss(bias_fun="third_order", r_th=0.8, anchor_db="a", mse_weight=0.1,
                         datasets=["a", "b"], mos_range=[1, 5])
    loss.set_biases([[0, 1, 0, 0], [0.5, 0.5, 0, 0]])
    copy = keras.losses.deserialize(keras.losses.serialize(loss))
    assert isinstance(copy, BiasAwareLoss)
    assert (copy.bias_fun, copy.r_th, copy.anchor_db, copy.mse_weight) == ("third_order", 0.8, "a", 0.1)
    assert copy.get_biases(2) == pytest.approx(np.array([[0, 1, 0, 0], [0.5, 0.5, 0, 0]]))


def test_loss_rejects_bad_options():
    with pytest.raises(ValueError, match="bias_fun"):
        BiasAwareLoss(bias_fun="quadratic")
    with pytest.raises(ValueError, match="anchor_db 'c'"):
        BiasAwareLoss(anchor_db="c", datasets=["a", "b"])


class _Scripted:
    """Training-set predictions handed to the updater, one epoch at a time."""

    def __init__(self, epochs):
        self.epochs, self.calls = epochs, 0

    def __call__(self, model):
        result = self.epochs[self.calls]
        self.calls += 1
        return result


def _epoch_data(rng, noise):
    truth, mos, db = _four_datasets(rng, 40)
    return truth + rng.normal(0, noise, truth.size), mos, db


def test_updater_changes_nothing_before_r_th_then_updates_every_epoch(rng):
    # Epoch 1: predictions barely related to the MOS (r < 0.5); epoch 2: r > 0.5; epoch 3: r < 0.5 again.
    # (Perfect predictions of the true quality reach only r ~ 0.65 against the four biased scales.)
    noisy, good, noisy_again = _epoch_data(rng, 20.0), _epoch_data(rng, 0.01), _epoch_data(rng, 20.0)
    assert abs(np.corrcoef(noisy[0], noisy[1])[0, 1]) < 0.5 < np.corrcoef(good[0], good[1])[0, 1]
    loss = BiasAwareLoss(bias_fun="first_order", r_th=0.5, anchor_db="train_1",
                         datasets=["train_1", "train_2", "train_3", "train_4"])
    updater = BiasUpdater(loss, _Scripted([noisy, good, noisy_again]), verbose=0)
    logs = {}
    updater.on_epoch_end(0, logs)
    assert not updater.started
    assert loss.get_biases(4) == pytest.approx(np.tile(IDENTITY, (4, 1)))
    assert logs["train_r"] == pytest.approx(np.corrcoef(noisy[0], noisy[1])[0, 1], abs=1e-9)
    updater.on_epoch_end(1, logs)
    assert updater.started_epoch == 1
    estimated = loss.get_biases(4)
    assert estimated[0] == pytest.approx(IDENTITY)
    assert estimated[1] == pytest.approx(SEED_BIASES[1], abs=0.01)
    assert logs["bias_train_3_b0"] == pytest.approx(estimated[2, 0])
    updater.on_epoch_end(2, logs)  # below r_th again, but updating continues once started
    assert not np.allclose(loss.get_biases(4), estimated)


def test_r_th_of_one_never_updates(rng):
    good = _epoch_data(rng, 0.0)
    loss = BiasAwareLoss(r_th=1.0, datasets=["a", "b", "c", "d"])
    updater = BiasUpdater(loss, _Scripted([good] * 3), verbose=0)
    for epoch in range(3):
        updater.on_epoch_end(epoch, {})
    assert not updater.started
    assert loss.get_biases(4) == pytest.approx(np.tile(IDENTITY, (4, 1)))


def _tiny_problem(rng, n=96):
    x = rng.normal(size=(n, 3)).astype("float32")
    truth = x @ np.array([1.0, -0.5, 0.25], "float32") + 3.0
    db = np.arange(n) % 2
    mos = np.where(db == 0, truth, 1.0 + 0.5 * truth).astype("float32")
    return x, np.stack([mos, db], axis=1).astype("float32")


def _tiny_model(seed=0):
    keras.utils.set_random_seed(seed)
    return keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])


def test_updater_inside_fit_fits_the_model_predictions(rng):
    import tensorflow as tf

    x, y = _tiny_problem(rng)
    loss = BiasAwareLoss(r_th=-1.0, anchor_db="a", datasets=["a", "b"])
    model = _tiny_model()
    model.compile(keras.optimizers.Adam(0.05), loss=loss)
    plain = tf.data.Dataset.from_tensor_slices((x, y)).batch(32)
    updater = BiasUpdater(loss, plain, verbose=0)
    history = model.fit(plain.shuffle(96, seed=0), epochs=3, callbacks=[updater], shuffle=False, verbose=0)
    predictions = np.ravel(model.predict(x, verbose=0))
    slope, intercept = np.polyfit(predictions[1::2], y[1::2, 0], 1)
    assert loss.get_biases(2)[1][:2] == pytest.approx([intercept, slope], abs=1e-4)
    assert loss.get_biases(2)[0] == pytest.approx(IDENTITY)
    assert "train_r_b" in history.history and "bias_b_b1" in history.history


def test_run_state_saves_and_restores_the_biases(tmp_path, rng):
    """A resumed run starts from the biases its last finished epoch estimated."""
    import tensorflow as tf

    x, y = _tiny_problem(rng)
    plain = tf.data.Dataset.from_tensor_slices((x, y)).batch(32)

    def setup():
        loss = BiasAwareLoss(r_th=-1.0, anchor_db="a", datasets=["a", "b"])
        model = _tiny_model()
        model.compile(keras.optimizers.Adam(0.05), loss=loss)
        return model, loss, {"bias": BiasUpdater(loss, plain, verbose=0)}

    model, loss, stateful = setup()
    model.fit(plain, epochs=2, callbacks=[stateful["bias"], RunState(tmp_path, stateful)], shuffle=False, verbose=0)
    saved = json.loads((tmp_path / RunState.STATE).read_text())
    assert saved["epochs_done"] == 2
    assert np.array(saved["callbacks"]["bias"]["biases"])[:2] == pytest.approx(loss.get_biases(2))
    assert not np.allclose(loss.get_biases(2)[1], IDENTITY)

    resumed_model, resumed_loss, resumed_stateful = setup()  # a fresh process would start like this
    assert resumed_loss.get_biases(2)[1] == pytest.approx(IDENTITY)
    assert RunState.restore(tmp_path, resumed_model, resumed_stateful) == 2
    assert resumed_loss.get_biases(2) == pytest.approx(loss.get_biases(2))
    assert resumed_stateful["bias"].started_epoch == 0
    # The compiled training step reads the restored variable: same loss value as the original.
    assert resumed_model.evaluate(x, y, verbose=0) == pytest.approx(model.evaluate(x, y, verbose=0), rel=1e-5)


def test_indexed_targets_normalise_per_dataset():
    records = pd.DataFrame({"mos": [1.0, 2.0, 3.0, 50.0, 70.0], "db": ["a", "a", "a", "b", "b"]})
    targets = indexed_targets(records, ["a", "b"], {"a": (2.0, 1.0), "b": (60.0, 10.0)})
    assert targets == pytest.approx(np.array([[-1, 0], [0, 0], [1, 0], [-1, 1], [1, 1]], float))
    with pytest.raises(ValueError, match="not in datasets"):
        indexed_targets(records, ["a"], None)


def test_indexed_pipeline_carries_the_dataset_of_each_image(tmp_path):
    """Shuffled, augmented batches keep each image with its own [mos, db index]."""

    from iqa_keras.training.bias import make_indexed_dataset

    rows = []
    for i in range(10):
        path = tmp_path / f"img{i}.png"
        write_image(path, np.full((40, 40, 3), 20 * i, np.uint8))
        rows.append({"dist": str(path), "ref": "", "mos": float(i), "mos_std": np.nan, "db": "ab"[i % 2],
                     "content": f"c{i}", "distortion": "none", "level": np.nan})
    records = pd.DataFrame(rows)
    pipeline = make_indexed_dataset(records, ["a", "b"], {"a": (0.0, 1.0), "b": (0.0, 2.0)}, input_size=32,
                                     batch_size=4, shuffle=True, augment=True, seed=3)
    seen = 0
    for images, targets in pipeline:
        targets = targets.numpy()
        assert targets.shape[1] == 2
        for image, (mos, index) in zip(images.numpy(), targets):
            i = int(round(image.mean() / 20))  # the image's row, from its constant grey level
            assert index == i % 2
            assert mos == pytest.approx(i / (1.0 if i % 2 == 0 else 2.0))
            seen += 1
    assert seen == 10


def test_training_pipelines_train_with_fit(tmp_path):
    """The config-run wiring: shuffled indexed pipeline for fit, unaugmented one for the updater."""

    from iqa_keras.training.bias import training_pipelines

    rng = np.random.default_rng(0)
    rows = []
    for i in range(12):
        path = tmp_path / f"img{i}.png"
        write_random_image(path, rng, (40, 40))
        rows.append({"dist": str(path), "ref": "", "mos": float(i % 5) + 1, "mos_std": np.nan,
                     "db": ["x", "y", "z"][i % 3], "content": f"c{i}", "distortion": "none", "level": np.nan,
                     "crop": "random"})
    records = pd.DataFrame(rows)
    loss = BiasAwareLoss(r_th=-1.0, anchor_db="x")
    model = keras.Sequential([keras.Input((32, 32, 3)), keras.layers.Conv2D(2, 3, strides=4),
                              keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(1)])
    model.compile(keras.optimizers.Adam(1e-3), loss=loss)
    train, updater = training_pipelines(loss, records, ["x", "y", "z"], {"x": (3, 1), "y": (3, 2), "z": (0, 1)},
                                        32, 4, augment=True, seed=1, verbose=0)
    images, targets = next(iter(train))
    assert images.shape == (4, 32, 32, 3) and targets.shape == (4, 2)
    history = model.fit(train, epochs=1, callbacks=[updater], shuffle=False, verbose=0)
    assert updater.started_epoch == 0
    assert np.isfinite(history.history["loss"][0])
    assert loss.get_biases(3)[0] == pytest.approx(IDENTITY)
    # The updater saw every training record once, on the normalised scale, with its dataset index:
    # row i has mos i % 5 + 1 in dataset i % 3, normalised by that dataset's (mean, std) given above.
    index = np.arange(12) % 3
    mean, std = np.array([3.0, 3.0, 0.0])[index], np.array([1.0, 2.0, 1.0])[index]
    np.testing.assert_allclose(updater.last_targets, (np.arange(12) % 5 + 1 - mean) / std, rtol=1e-6)
    np.testing.assert_array_equal(updater.last_db_index, index)


def test_third_order_is_increasing_where_the_predictions_are(rng):
    """f must increase wherever it is applied: predictions below the MOS range widen the constrained domain."""
    x = np.concatenate([rng.uniform(0.0, 1.0, 60), rng.uniform(1, 5, 240)])
    y = np.where(x < 1.0, 3.0 - 1.5 * x, 1.0 + 0.8 * (x - 1.0))  # falls below 1, rises above
    fitted = fit_third_order(x, y, domain=(1, 5))
    grid = np.linspace(x.min(), 5.0, 400)
    slope = fitted[1] + 2 * fitted[2] * grid + 3 * fitted[3] * grid**2
    assert slope.min() > -1e-3
    # Constrained on [1, 5] only, the least-squares cubic would fall on [0, 1]: the widening mattered.
    free = np.polynomial.polynomial.polyfit(x, y, 3)
    low_grid = np.linspace(x.min(), 1.0, 50)
    assert (free[1] + 2 * free[2] * low_grid + 3 * free[3] * low_grid**2).min() < -0.1


def test_max_slope_bounds_the_fits(rng):
    """``max_slope``: the clipped first-order slope is the box-constrained least squares (checked by scipy)."""
    from scipy.optimize import lsq_linear

    x = rng.uniform(2.0, 2.5, 200)  # squeezed predictions: the free slope is steep
    y = 1.0 + 6.0 * (x - 2.0) / 0.5 * 0.5 + rng.normal(0, 0.05, x.size)
    free = fit_first_order(x, y)
    assert free[1] > 5
    capped = fit_first_order(x, y, max_slope=3.0)
    reference = lsq_linear(np.stack([np.ones_like(x), x], 1), y, bounds=([-np.inf, 0.0], [np.inf, 3.0])).x
    assert capped[:2] == pytest.approx(reference, abs=1e-6)
    assert capped[1] == pytest.approx(3.0)
    # Third order: f' stays in [0, max_slope] wherever it is constrained (MOS range and predictions).
    cubic = fit_third_order(x, y, domain=(1, 5), max_slope=3.0)
    grid = np.linspace(1.0, 5.0, 401)
    slope = cubic[1] + 2 * cubic[2] * grid + 3 * cubic[3] * grid**2
    assert slope.min() > -1e-3 and slope.max() < 3.0 + 1e-3
    # A cap above the true slopes changes nothing: the seed's cubic (f' <= 3.13 on [1, 5], at 5) is still recovered.
    exact_x = rng.uniform(1, 5, 400)
    exact = fit_third_order(exact_x, _poly(SEED_BIASES[3], exact_x), domain=(1, 5), max_slope=3.2)
    assert exact == pytest.approx(SEED_BIASES[3], abs=1e-6)


def test_loss_max_slope_reaches_the_updater_fit():
    loss = BiasAwareLoss(r_th=-1.0, anchor_db="a", datasets=["a", "b"], max_slope=2.0)
    assert BiasAwareLoss.from_config(loss.get_config()).max_slope == 2.0
    with pytest.raises(ValueError, match="max_slope"):
        BiasAwareLoss(max_slope=0.0)
    predictions = np.concatenate([np.linspace(1, 5, 20), np.linspace(2.0, 2.2, 20)])
    mos = np.concatenate([np.linspace(1, 5, 20), np.linspace(1, 5, 20)])  # dataset b: slope 20 unbounded
    db = np.repeat([0, 1], 20)
    updater = BiasUpdater(loss, lambda model: (predictions, mos, db))
    updater.set_model(keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)]))
    updater.on_epoch_end(0, {})
    assert loss.get_biases(2)[1][1] == pytest.approx(2.0)
    assert list(loss.get_biases(2)[0]) == pytest.approx([0.0, 1.0, 0.0, 0.0])
