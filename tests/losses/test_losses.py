"""Losses against independent numpy computations; finiteness, gradients, batch sizes, serialization."""
import keras
import numpy as np
import pytest
import tensorflow as tf
from scipy import stats

import iqa_keras
from iqa_keras import losses
from iqa_keras.ranking import load_ranking_network

BATCH_SIZES = (2, 15, 16, 17, 33)


@pytest.fixture(scope="module")
def ranking_network():
    return load_ranking_network()


@pytest.fixture(scope="module")
def spearman_loss(ranking_network):
    return losses.SurrogateSpearman(ranking_network=ranking_network)


def _value(loss, y_true, y_pred):
    return float(loss(tf.constant(y_true, tf.float32), tf.constant(y_pred, tf.float32)))


def _histograms(rng, n, bins=10):
    h = rng.gamma(1.0, size=(n, bins))
    return h / h.sum(axis=1, keepdims=True)


# ------------------------------------------------------------------- Pearson / MSE
def test_pearson_matches_numpy(rng):
    t = rng.normal(size=(40, 1))
    p = 0.5 * t + rng.normal(size=(40, 1))
    r = np.corrcoef(t[:, 0], p[:, 0])[0, 1]
    assert _value(losses.Pearson(), t, p) == pytest.approx(1 - r, abs=1e-5)
    assert _value(losses.Pearson(squared=True), t, p) == pytest.approx(1 - r * r, abs=1e-5)
    assert _value(losses.Pearson(), t, -p) == pytest.approx(1 + r, abs=1e-5)  # sign-aware
    assert _value(losses.Pearson(squared=True), t, -p) == pytest.approx(1 - r * r, abs=1e-5)


def test_mse_is_registered_and_matches_numpy(rng):
    t, p = rng.normal(size=(20, 1)), rng.normal(size=(20, 1))
    assert _value(losses.get("mse"), t, p) == pytest.approx(np.mean((t - p) ** 2), rel=1e-5)


# --------------------------------------------------------------- surrogate Spearman
@pytest.mark.parametrize(
    "size, expected",
    [
        (2, [[0, 1] * 8]),
        (15, [[14] + list(range(15))]),
        (16, [list(range(16))]),
        (17, [list(range(16)), list(range(1, 17))]),
        (33, [list(range(16)), list(range(16, 32)), list(range(17, 33))]),
    ],
)
def test_rank_groups(size, expected):
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(losses.rank_groups(size)), expected)


def test_surrogate_spearman_matches_numpy(rng, ranking_network, spearman_loss):
    t = rng.normal(size=33)
    p = t + rng.normal(size=33)
    groups = [list(range(16)), list(range(16, 32)), list(range(17, 33))]  # written out by hand
    rank_t = ranking_network.predict(t[groups].astype("float32"), verbose=0)
    rank_p = ranking_network.predict(p[groups].astype("float32"), verbose=0)
    expected = np.mean((rank_t - rank_p) ** 2)
    assert _value(spearman_loss, t[:, None], p[:, None]) == pytest.approx(expected, rel=1e-4)


def test_surrogate_spearman_approximates_one_minus_rho(rng, ranking_network):
    loss = losses.SurrogateSpearman(ranking_network=ranking_network, normalize=True)
    for _ in range(5):
        t = rng.normal(size=16)
        p = t + rng.normal(scale=1.0, size=16)
        rho = stats.spearmanr(t, p).statistic
        assert _value(loss, t, p) == pytest.approx(1 - rho, abs=0.08)


def test_surrogate_spearman_decreases_as_ranks_approach_the_target(rng, spearman_loss):
    target = rng.normal(size=32)
    noise = rng.normal(size=32)
    values, rhos = [], []
    for scale in (30.0, 3.0, 1.0, 0.5, 0.25, 0.1, 0.0):
        prediction = target + scale * noise
        rhos.append(stats.spearmanr(target, prediction).statistic)
        values.append(_value(spearman_loss, target, prediction))
    assert np.all(np.diff(rhos) > 0), rhos  # the construction moves ranks closer at every step
    assert np.all(np.diff(values) < 0), values
    assert values[-1] < 0.5  # identical ranks: close to 0


def test_surrogate_spearman_is_scale_and_offset_invariant(rng, spearman_loss):
    t = rng.normal(size=16)
    p = t + rng.normal(size=16)
    base = _value(spearman_loss, t, p)
    assert _value(spearman_loss, t, 0.5 + 0.01 * p) == pytest.approx(base, rel=0.02, abs=0.02)


def test_fr_loss_matches_numpy(rng, ranking_network):
    t = rng.normal(size=(16, 1))
    p = 0.8 * t + rng.normal(scale=0.5, size=(16, 1))
    r = np.corrcoef(t[:, 0], p[:, 0])[0, 1]
    # The surrogate term written out: one group of 16, the shipped network's ranks, their mean squared difference.
    rank_t = ranking_network.predict(t[:, 0][None].astype("float32"), verbose=0)
    rank_p = ranking_network.predict(p[:, 0][None].astype("float32"), verbose=0)
    rank = np.mean((rank_t - rank_p) ** 2)
    loss = losses.FRLoss(mse_factor=0.3, spearman_factor=0.2)
    expected = 0.3 * np.mean((t - p) ** 2) + 0.7 * (1 - r) + 0.2 * rank
    assert _value(loss, t, p) == pytest.approx(expected, rel=1e-4)
    seed_form = losses.FRLoss(squared_pearson=True, spearman_factor=0.0)
    assert _value(seed_form, t, p) == pytest.approx(0.5 * np.mean((t - p) ** 2) + 0.5 * (1 - r * r), rel=1e-4)


# ---------------------------------------------------------------- histogram losses
def test_emd_matches_numpy(rng):
    t, p = _histograms(rng, 8), _histograms(rng, 8)
    difference = np.cumsum(t, axis=1) - np.cumsum(p, axis=1)
    emd1 = np.mean(np.mean(np.abs(difference), axis=1))
    assert _value(losses.EMD(r=2), t, p) == pytest.approx(np.mean(np.sqrt(np.mean(difference ** 2, axis=1))), rel=1e-4)
    assert _value(losses.EMD(r=1), t, p) == pytest.approx(emd1, rel=1e-5)
    # Vote counts are normalised first: the same as numpy's figure on the normalised histograms.
    assert _value(losses.EMD(r=1), t * 37, p) == pytest.approx(emd1, rel=1e-5)
    # One-hot histograms one bin apart: |CDF difference| is 1 on exactly one of 10 bins.
    a, b = np.eye(10)[[2]], np.eye(10)[[3]]
    assert _value(losses.EMD(r=1), a, b) == pytest.approx(0.1, rel=1e-5)
    assert _value(losses.EMD(r=2), a, b) == pytest.approx(np.sqrt(0.1), rel=1e-5)


def test_chi_square_matches_numpy(rng):
    t, p = _histograms(rng, 8), _histograms(rng, 8)
    expected = np.mean(0.5 * np.sum((t - p) ** 2 / (t + p), axis=1))
    assert _value(losses.ChiSquare(), t, p) == pytest.approx(expected, rel=1e-4)


def test_moments_mse_matches_numpy(rng):
    t, p = _histograms(rng, 8), _histograms(rng, 8)
    bins = np.arange(1, 11)
    mean_t, mean_p = t @ bins, p @ bins
    std_t = np.sqrt(t @ bins ** 2 - mean_t ** 2)
    std_p = np.sqrt(p @ bins ** 2 - mean_p ** 2)
    expected = np.mean((mean_t - mean_p) ** 2 + 0.5 * (std_t - std_p) ** 2)
    assert _value(losses.MomentsMSE(std_weight=0.5), t, p) == pytest.approx(expected, rel=1e-4)


def test_nima_pearson_of_means_term_matches_numpy(rng):
    """The Keras NIMA reproduction's patches regulariser: + w (1 - r) of the true and predicted mean scores."""
    t, p = _histograms(rng, 8), _histograms(rng, 8)
    bins = np.arange(1, 11)
    r = np.corrcoef(t @ bins, p @ bins)[0, 1]
    cdf = np.cumsum(t, axis=1) - np.cumsum(p, axis=1)
    emd = np.mean(np.sqrt(np.mean(cdf**2, axis=1)))
    assert _value(losses.NIMALoss(pearson_weight=0.5), t, p) == pytest.approx(emd + 0.5 * (1 - r), rel=1e-4)
    equal_means = np.tile(t[:1], (8, 1))  # r undefined: taken as 0, the loss stays finite
    assert np.isfinite(_value(losses.NIMALoss(pearson_weight=1.0), equal_means, p))


# ------------------------------------------------------ finiteness and gradients
def _scalar_losses(ranking_network):
    return {
        "mse": losses.MSE(),
        "pearson": losses.Pearson(),
        "pearson_squared": losses.Pearson(squared=True),
        "surrogate_spearman": losses.SurrogateSpearman(ranking_network=ranking_network),
        "fr_loss": losses.FRLoss(),
    }


def _histogram_losses():
    return {"emd1": losses.EMD(r=1), "emd2": losses.EMD(r=2), "chi_square": losses.ChiSquare(),
            "moments_mse": losses.MomentsMSE()}


def _check_finite(loss, y_true, y_pred):
    y_pred = tf.Variable(y_pred.astype("float32"))
    with tf.GradientTape() as tape:
        value = loss(tf.constant(y_true, tf.float32), y_pred)
    gradient = tape.gradient(value, y_pred)
    assert np.isfinite(float(value))
    assert gradient is not None and np.all(np.isfinite(gradient.numpy()))


@pytest.mark.parametrize("size", BATCH_SIZES)
def test_scalar_losses_finite_with_finite_gradients(rng, ranking_network, size):
    t = rng.normal(size=(size, 1))
    p = rng.normal(size=(size, 1))
    cases = {"random": (t, p), "identical predictions": (t, np.full_like(p, 0.3)),
             "identical targets": (np.full_like(t, -1.0), p), "prediction equals target": (t, t.copy())}
    for name, loss in _scalar_losses(ranking_network).items():
        for y_true, y_pred in cases.values():
            _check_finite(loss, y_true, y_pred)


@pytest.mark.parametrize("size", BATCH_SIZES)
def test_histogram_losses_finite_with_finite_gradients(rng, size):
    t, p = _histograms(rng, size), _histograms(rng, size)
    one_hot = np.eye(10)[rng.integers(0, 10, size)]
    cases = [(t, p), (t, np.repeat(p[:1], size, axis=0)), (np.repeat(t[:1], size, axis=0), p), (t, t.copy()),
             (one_hot, one_hot.copy()), (one_hot, p)]
    for loss in _histogram_losses().values():
        for y_true, y_pred in cases:
            _check_finite(loss, y_true, y_pred)


def test_constant_batch_values():
    t = np.arange(8, dtype=float)[:, None]
    assert _value(losses.Pearson(), t, np.ones_like(t)) == pytest.approx(1.0)
    assert _value(losses.Pearson(squared=True), np.ones_like(t), t) == pytest.approx(1.0)


# ------------------------------------------------------------------ serialization
def test_losses_registered_and_round_trip(rng, ranking_network):
    assert set(iqa_keras.LOSSES.names()) >= {"mse", "pearson", "surrogate_spearman", "fr_loss", "emd",
                                               "chi_square", "moments_mse"}
    with pytest.raises(ValueError, match="known: .*pearson"):
        losses.get("pearsn")
    t, p = rng.normal(size=(17, 1)), rng.normal(size=(17, 1))
    ht, hp = _histograms(rng, 5), _histograms(rng, 5)
    built = [(losses.get("pearson", squared=True), t, p), (losses.get("fr_loss", mse_factor=0.2), t, p),
             (losses.get("surrogate_spearman", normalize=True), t, p), (losses.get("emd", r=1), ht, hp),
             (losses.get("chi_square"), ht, hp), (losses.get("moments_mse", std_weight=2.0), ht, hp),
             (losses.get("mse"), t, p)]
    for loss, y_true, y_pred in built:
        restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(loss))
        assert type(restored) is type(loss)
        assert restored.get_config() == loss.get_config()
        assert _value(restored, y_true, y_pred) == pytest.approx(_value(loss, y_true, y_pred), rel=1e-5)


def test_model_compiled_with_fr_loss_saves_and_loads(tmp_path, rng):
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(optimizer="adam", loss=losses.FRLoss(mse_factor=0.4, spearman_factor=0.05))
    x, y = rng.normal(size=(32, 3)).astype("float32"), rng.normal(size=(32, 1)).astype("float32")
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert isinstance(loaded.loss, losses.FRLoss)
    assert loaded.loss.get_config() == model.loss.get_config()
    assert loaded.evaluate(x, y, batch_size=32, verbose=0) == pytest.approx(
        model.evaluate(x, y, batch_size=32, verbose=0), rel=1e-5)


def test_training_on_the_surrogate_alone_learns_the_ranking(rng):
    """Its gradient is useful: a linear model fitted with SurrogateSpearman only (batches of 16,
    the last one of 8) ranks a held-out set like the true score."""
    weights = np.array([1.0, -2.0, 0.5, 1.5])
    x = rng.normal(size=(301, 4)).astype("float32")
    y = np.exp(x @ weights / 2).astype("float32")[:, None]  # monotonic in x @ weights, not linear
    keras.utils.set_random_seed(1)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss=losses.SurrogateSpearman())
    before = stats.spearmanr(model.predict(x[200:], verbose=0)[:, 0], y[200:, 0]).statistic
    model.fit(x[:200], y[:200], batch_size=16, epochs=10, verbose=0)
    after = stats.spearmanr(model.predict(x[200:], verbose=0)[:, 0], y[200:, 0]).statistic
    assert after > 0.95 and after > before + 0.2, (before, after)
