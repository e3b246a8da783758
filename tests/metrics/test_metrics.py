"""Set-level IQA metrics against scipy, hand computations and known logistic curves."""
import itertools
import math

import keras
import numpy as np
import pytest
import tensorflow as tf
from scipy import stats

from iqa_keras import metrics


def _kendall_tau_b_by_hand(a, b):
    """Kendall's tau-b from all pairs, written out (independent of scipy)."""
    concordant = discordant = ties_a = ties_b = 0
    for i, j in itertools.combinations(range(len(a)), 2):
        da, db = np.sign(a[i] - a[j]), np.sign(b[i] - b[j])
        if da == 0 and db == 0:
            continue
        if da == 0:
            ties_a += 1
        elif db == 0:
            ties_b += 1
        elif da == db:
            concordant += 1
        else:
            discordant += 1
    return (concordant - discordant) / math.sqrt(
        (concordant + discordant + ties_a) * (concordant + discordant + ties_b)
    )


@pytest.mark.parametrize("with_ties", [False, True])
def test_correlations_agree_with_scipy(rng, with_ties):
    a = rng.normal(size=500)
    b = 0.6 * a + rng.normal(size=500)
    if with_ties:
        a, b = np.round(a, 1), np.round(b * 2) / 2
    assert metrics.srcc(a, b) == pytest.approx(stats.spearmanr(a, b).statistic, abs=1e-9)
    assert metrics.plcc(a, b) == pytest.approx(stats.pearsonr(a, b).statistic, abs=1e-9)
    assert metrics.krcc(a, b) == pytest.approx(stats.kendalltau(a, b).statistic, abs=1e-9)
    assert metrics.rmse(a, b) == pytest.approx(np.sqrt(np.mean((a - b) ** 2)), abs=1e-12)


def test_krcc_matches_a_pairwise_count(rng):
    a = np.round(rng.normal(size=60), 1)
    b = np.round(a + rng.normal(size=60), 1)
    assert metrics.krcc(a, b) == pytest.approx(_kendall_tau_b_by_hand(a, b), abs=1e-12)


def test_rank_average_matches_scipy_rankdata(rng):
    values = rng.integers(0, 7, size=200).astype(float)
    np.testing.assert_allclose(metrics.rank_average(values), stats.rankdata(values))
    np.testing.assert_allclose(metrics.rank_average([3.0, 1.0, 2.0, 1.0]), [4.0, 1.5, 3.0, 1.5])


def test_degenerate_and_bad_inputs():
    assert math.isnan(metrics.srcc([1, 1, 1], [1, 2, 3]))
    assert math.isnan(metrics.plcc([1, 2, 3], [5, 5, 5]))
    assert metrics.srcc([1, 2, 3], [3, 2, 1]) == pytest.approx(-1.0)
    with pytest.raises(ValueError, match="differ in length"):
        metrics.plcc([1, 2, 3], [1, 2])
    with pytest.raises(ValueError, match="NaN"):
        metrics.srcc([1, np.nan, 3], [1, 2, 3])


def test_logistic4_fit_recovers_a_known_curve(rng):
    x = rng.uniform(-3, 3, size=400)
    true = (4.5, 1.0, 0.3, 0.7)  # b1 (top), b2 (bottom), b3 (centre), b4 (width)
    mos = metrics.logistic4(x, *true)
    # Hand-written form of the same curve, independent of the library function.
    np.testing.assert_allclose(mos, (4.5 - 1.0) / (1 + np.exp(-(x - 0.3) / 0.7)) + 1.0)
    mapping = metrics.fit_logistic(x, mos + rng.normal(scale=0.05, size=x.size), parameters=4)
    np.testing.assert_allclose(mapping.coefficients[:3], true[:3], atol=0.05)
    assert abs(mapping.coefficients[3]) == pytest.approx(0.7, abs=0.05)
    noisy = mos + rng.normal(scale=0.05, size=x.size)
    # After mapping, only the noise is left: RMSE near 0.05, PLCC above the raw one.
    assert metrics.rmse_logistic(x, noisy, 4) == pytest.approx(0.05, abs=0.01)
    assert metrics.plcc_logistic(x, noisy, 4) > metrics.plcc(x, noisy)
    assert metrics.plcc_logistic(x, noisy, 4) > 0.999


def test_logistic5_fit_recovers_a_known_curve(rng):
    x = rng.uniform(0, 10, size=400)
    true = (6.0, 1.2, 5.0, 0.1, 3.0)
    mos = 6.0 * (0.5 - 1 / (1 + np.exp(1.2 * (x - 5.0)))) + 0.1 * x + 3.0
    noisy = mos + rng.normal(scale=0.05, size=x.size)
    mapping = metrics.fit_logistic(x, noisy, parameters=5)
    np.testing.assert_allclose(mapping.coefficients, true, rtol=0.1, atol=0.05)
    assert metrics.rmse_logistic(x, noisy, 5) == pytest.approx(0.05, abs=0.01)


def test_logistic_fit_of_a_decreasing_relation(rng):
    x = rng.uniform(-3, 3, size=300)
    mos = (1.0 - 5.0) / (1 + np.exp(-x / 0.5)) + 5.0  # logistic4(x, 1, 5, 0, 0.5) written out: decreasing
    assert metrics.plcc_logistic(x, mos, 4) == pytest.approx(1.0, abs=1e-4)


def test_bootstrap_ci_is_seeded_and_covers_the_estimate(rng):
    a = rng.normal(size=200)
    b = 0.7 * a + rng.normal(scale=0.7, size=200)
    low, high = metrics.bootstrap_ci(a, b, "srcc", samples=300, seed=3)
    assert (low, high) == metrics.bootstrap_ci(a, b, "srcc", samples=300, seed=3)
    assert low < stats.spearmanr(a, b).statistic < high
    # Fisher-z interval as an independent yardstick for the width of a PLCC interval.
    r = stats.pearsonr(a, b).statistic
    z_low, z_high = np.tanh(np.arctanh(r) + np.array([-1, 1]) * 1.96 / math.sqrt(200 - 3))
    p_low, p_high = metrics.bootstrap_ci(a, b, "plcc", samples=500, seed=0)
    assert p_high - p_low == pytest.approx(z_high - z_low, rel=0.35)


def test_correlation_report_per_dataset(rng):
    a = rng.normal(size=90)
    b = a + rng.normal(size=90)
    db = np.array(["live"] * 40 + ["tid"] * 50)
    report = metrics.correlation_report(a, b, db, logistic=True, bootstrap=50)
    assert report["srcc"] == pytest.approx(stats.spearmanr(a, b).statistic, abs=1e-9)
    assert report["per_db"]["tid"]["plcc"] == pytest.approx(stats.pearsonr(a[40:], b[40:]).statistic, abs=1e-9)
    assert report["per_db"]["live"]["n"] == 40
    assert {"plcc_logistic4", "rmse_logistic5", "ci95"} <= set(report)
    plain = metrics.correlation_report(a, b)
    assert set(plain) == {"srcc", "plcc", "krcc", "rmse", "n", "per_db"} and plain["per_db"] == {}


def test_epoch_metrics_uses_the_whole_validation_set(rng):
    """val_srcc is scipy's SRCC over all 50 samples, with batches of 16 (50 is no multiple of 16)."""
    features = rng.normal(size=(50, 3)).astype("float32")
    targets = (features @ np.array([1.0, -0.5, 0.2]) + rng.normal(scale=0.8, size=50)).astype("float32")
    dataset = tf.data.Dataset.from_tensor_slices((features, targets[:, None])).batch(16)
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    scale, offset = 2.0, 3.0
    callback = metrics.EpochMetrics(dataset, denormalize=lambda v: v * scale + offset)
    history = model.fit(dataset, epochs=2, verbose=0, callbacks=[callback])
    predictions = model.predict(features, verbose=0)[:, 0]
    expected = stats.spearmanr(predictions, targets).statistic
    assert history.history["val_srcc"][-1] == pytest.approx(expected, abs=1e-6)
    batch_average = np.mean([stats.spearmanr(predictions[i:i + 16], targets[i:i + 16]).statistic
                             for i in range(0, 50, 16)])
    assert abs(expected - batch_average) > 1e-3  # the test can tell the two apart
    assert history.history["val_plcc"][-1] == pytest.approx(stats.pearsonr(predictions, targets).statistic, abs=1e-6)
    # val_main = SRCC + PLCC, both from scipy
    assert history.history["val_main"][-1] == pytest.approx(
        expected + stats.pearsonr(predictions, targets).statistic, abs=1e-6)
    expected_rmse = np.sqrt(np.mean(((predictions - targets) * scale) ** 2))
    assert history.history["val_rmse"][-1] == pytest.approx(expected_rmse, rel=1e-5)
    assert callback.last_predictions.shape == (50,)
    np.testing.assert_allclose(callback.last_targets, targets * scale + offset, rtol=1e-6)


def test_epoch_metrics_accepts_sample_weights_and_constant_predictions():
    features = np.zeros((20, 2), "float32")
    targets = np.arange(20, dtype="float32")[:, None]
    dataset = tf.data.Dataset.from_tensor_slices((features, targets, np.ones(20, "float32"))).batch(6)
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    callback = metrics.EpochMetrics(dataset)
    logs = {}
    callback.set_model(model)
    callback.on_epoch_end(0, logs)
    assert logs["val_srcc"] == 0.0 and logs["val_main"] == 0.0  # constant predictions
    assert logs["val_rmse"] == pytest.approx(np.sqrt(np.mean((targets[:, 0] - model.predict(features, verbose=0)[:, 0]) ** 2)), rel=1e-5)
