"""``Correlation`` in ``model.evaluate`` gives the whole set's figure (scipy on all values), not a batch mean."""
import keras
import numpy as np
import pytest
from scipy import stats

from iqa_keras.metrics import Correlation


@pytest.fixture
def scored(rng):
    x = rng.normal(size=(70, 3)).astype("float32")
    mos = np.round(x @ np.array([1.0, -0.5, 0.2]) + rng.normal(scale=0.8, size=70), 1).astype("float32")  # ties
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.layers[0].set_weights([np.array([[0.9], [-0.4], [0.3]], "float32"), np.zeros(1, "float32")])
    model.compile(loss="mse", metrics=[Correlation("srcc"), Correlation("plcc"), Correlation("krcc")])
    return model, x, mos


def test_evaluate_reports_whole_set_correlations_independent_of_batch_size(scored):
    model, x, mos = scored
    predicted = model.predict(x, verbose=0).ravel()
    expected = {"srcc": stats.spearmanr(predicted, mos)[0], "plcc": stats.pearsonr(predicted, mos)[0],
                "krcc": stats.kendalltau(predicted, mos)[0]}
    for batch_size in (8, 70):
        logs = model.evaluate(x, mos, batch_size=batch_size, verbose=0, return_dict=True)
        for kind, value in expected.items():
            assert logs[kind] == pytest.approx(value, abs=1e-6), (batch_size, kind)
    batches = [stats.spearmanr(predicted[i:i + 8], mos[i:i + 8])[0] for i in range(0, 64, 8)]
    assert abs(np.mean(batches) - expected["srcc"]) > 1e-3  # what a per-batch mean would have reported


def test_bias_aware_targets_use_their_mos_column_and_overflow_is_nan(rng):
    metric = Correlation("plcc", capacity=10)
    metric.update_state(np.stack([np.arange(6.0), np.zeros(6)], 1), np.arange(6.0) * 2)
    assert float(metric.result()) == pytest.approx(1.0)
    metric.update_state(np.arange(6.0), np.arange(6.0))
    assert np.isnan(float(metric.result()))
    metric.reset_state()
    assert np.isnan(float(metric.result()))
    assert Correlation.from_config(Correlation("krcc", capacity=50).get_config()).capacity == 50
