"""The 16-wide surrogate ranking network: architecture, training data, shipped weights, scripts."""
import importlib.util
from pathlib import Path

import keras
import numpy as np
import pytest
from scipy import stats

import iqa_keras
from iqa_keras import build_model
from iqa_keras.ranking import (
    SHIPPED_WEIGHTS,
    average_ranks,
    evaluate_ranking_network,
    load_ranking_network,
    sample_score_vectors,
    spearman_from_ranks,
    train_ranking_network,
)

ROOT = Path(__file__).resolve().parents[2]


def _script(name):
    spec = importlib.util.spec_from_file_location(f"ranking_{name}", ROOT / "ranking_model" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("standardize_input", [True, False])
def test_parameter_counts_match_the_reference(standardize_input):
    model = build_model("ranking16", standardize_input=standardize_input)
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    assert model.count_params() == 471_864
    assert trainable == 470_872
    assert model.input_shape == (None, 16) and model.output_shape == (None, 16)


def test_layer_sequence_matches_the_reference_table():
    model = build_model("ranking16")
    convs = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv1D)]
    assert [(c.filters, c.kernel_size[0], c.padding) for c in convs] == [
        (8, 2, "same"), (16, 3, "same"), (32, 5, "same"), (64, 7, "same"),
        (96, 10, "same"), (128, 7, "same"), (256, 7, "same")]
    names = [layer.name for layer in model.layers]
    assert [n for n in names if n.startswith("bn")] == ["bn2", "bn3", "bn4", "bn6", "bn7"]
    assert sum(isinstance(layer, keras.layers.PReLU) for layer in model.layers) == 7


def test_average_ranks_match_scipy(rng):
    scores = np.round(rng.normal(size=(50, 16)), 1).astype("float32")
    np.testing.assert_allclose(average_ranks(scores).numpy(), stats.rankdata(scores, axis=1))


def test_training_vectors_are_seeded_and_contain_ties():
    first = sample_score_vectors([3, 4], 2000, tie_fraction=0.5).numpy()
    again = sample_score_vectors([3, 4], 2000, tie_fraction=0.5).numpy()
    other = sample_score_vectors([3, 5], 2000, tie_fraction=0.5).numpy()
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)
    distinct = np.array([len(np.unique(row)) for row in first])
    assert 0.3 < np.mean(distinct < 16) < 0.7  # about half the vectors have ties
    untied = sample_score_vectors([3, 4], 2000, tie_fraction=0.0).numpy()
    assert np.all([len(np.unique(row)) == 16 for row in untied])
    assert untied.min() < -5 and untied.max() > 5  # the U(-10, 10) and N(0, 2) halves


def test_spearman_formula_by_hand():
    ranks = np.arange(1, 17)
    assert spearman_from_ranks(ranks, ranks) == pytest.approx(1.0)
    assert spearman_from_ranks(ranks, ranks[::-1]) == pytest.approx(-1.0)
    a, b = np.random.default_rng(0).permutation(16) + 1, np.arange(1, 17)
    assert spearman_from_ranks(a, b) == pytest.approx(stats.spearmanr(a, b).statistic)


def test_shipped_network_is_frozen_and_ranks(rng):
    model = iqa_keras.load_ranking_network()
    assert SHIPPED_WEIGHTS.stat().st_size < 3_000_000
    assert model.trainable_weights == []
    scores = rng.normal(size=(64, 16)).astype("float32")
    ranks = model.predict(scores, verbose=0)
    assert ranks.shape == (64, 16)
    assert np.mean(np.abs(ranks - stats.rankdata(scores, axis=1))) < 0.5
    with pytest.raises(FileNotFoundError, match="weights not found"):
        load_ranking_network("/nonexistent/r.weights.h5")


def test_shipped_weights_reach_the_accuracy_targets():
    """The same figures ranking_model/test.py prints (1000 pairs per distribution, seed 0)."""
    network = load_ranking_network()
    results = evaluate_ranking_network(network, pairs=1000, seed=0)
    # mean |true rho - surrogate rho| targets, written out from docs/losses.md
    for name, target in {"normal": 0.03, "uniform": 0.03, "ties": 0.05}.items():
        assert results[name]["mae"] <= target, (name, results[name])
    # The reference's N(0, 1) test written out: scipy's rho against 1 - 6 sum d^2 / (n (n^2 - 1)) of the ranks.
    rng = np.random.default_rng(11)
    a, b = rng.normal(size=(2, 500, 16))
    ranks = network.predict(np.concatenate([a, b]).astype("float32"), verbose=0).astype(float)
    surrogate = 1 - 6 * np.sum((ranks[:500] - ranks[500:]) ** 2, axis=1) / (16 * (16**2 - 1))
    true = np.array([stats.spearmanr(x, y).statistic for x, y in zip(a, b)])
    assert np.mean(np.abs(true - surrogate)) <= 0.03


def test_ranking_model_saves_and_loads_as_keras(tmp_path, rng):
    model = load_ranking_network()
    path = tmp_path / "ranking.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    scores = rng.normal(size=(4, 16)).astype("float32")
    np.testing.assert_allclose(loaded.predict(scores, verbose=0), model.predict(scores, verbose=0), atol=1e-5)


def test_train_script_writes_weights_and_test_script_reports(tmp_path, capsys):
    output = tmp_path / "tiny.weights.h5"
    _script("train").main(["--output", str(output), "--samples-per-epoch", "1024", "--epochs", "1",
                           "--batch-size", "256", "--validation-samples", "256", "--no-test"])
    assert output.is_file() and output.stat().st_size < 3_000_000
    status = _script("test").main(["--weights", str(output), "--pairs", "20"])
    captured = capsys.readouterr()
    printed = captured.out + captured.err  # the training messages on stderr, the report on stdout
    assert "val MAE" in printed and "N(0, 1)" in printed and "U(-10, 10)" in printed and "ties" in printed
    assert status == 1  # 1024 training vectors are far from enough
    with pytest.raises(ValueError, match="weights.h5"):
        train_ranking_network(tmp_path / "bad.h5", samples_per_epoch=256, epochs=1)


@pytest.mark.slow
def test_one_epoch_of_the_default_recipe_gets_close_to_the_target(tmp_path):
    """One of the 12 default epochs (500,000 vectors, ~2-3 min on 2 cores) already gives ~0.036 on N(0, 1)."""
    output = tmp_path / "one_epoch.weights.h5"
    train_ranking_network(output, epochs=1, verbose=0)
    results = evaluate_ranking_network(load_ranking_network(output), pairs=1000, seed=0)
    assert results["normal"]["mae"] < 0.05 and results["uniform"]["mae"] < 0.05 and results["ties"]["mae"] < 0.06
