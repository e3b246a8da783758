"""bfloat16 arithmetic on float32 weights: what it changes, what it keeps, and the way back to float32."""
import numpy as np
import pytest
from scipy import ndimage, stats

MODEL = "models/pretrained_fr.keras"


def _pairs(count=12, size=128):
    """Crops of scikit-image's astronaut against blurred and noisy copies, seeded."""
    from skimage import data

    rng = np.random.default_rng(0)
    image = data.astronaut().astype(np.float64)
    pairs = []
    for i in range(count):
        ref = image[30 * i % 300:30 * i % 300 + size, 25 * i % 350:25 * i % 350 + size]
        dist = ndimage.gaussian_filter(ref, (0.3 + 0.2 * i, 0.3 + 0.2 * i, 0)) + rng.normal(0, i, ref.shape)
        pairs.append((ref.astype(np.uint8), np.clip(np.round(dist), 0, 255).astype(np.uint8)))
    return pairs


@pytest.fixture(scope="module")
def repo_model():
    from pathlib import Path

    return str(Path(__file__).resolve().parents[2] / MODEL)


def test_bf16_computes_in_bfloat16_except_the_output_and_goes_back_exactly(repo_model):
    from iqa_keras import load_model
    from iqa_keras.utils.precision import set_precision

    model = load_model(repo_model)
    inputs = [np.stack([p[k] for p in _pairs(4)]).astype("float32") for k in (0, 1)]
    expected = np.asarray(model.predict_on_batch(inputs))
    set_precision(model, "bf16")
    inner = [layer for layer in model._flatten_layers(include_self=False) if layer.weights and layer.name != "score"]
    assert inner and all(layer.compute_dtype == "bfloat16" for layer in inner)
    assert all(w.dtype == "float32" for w in model.weights)  # the weights stay float32
    assert model.get_layer("score").compute_dtype == "float32"
    assert np.asarray(model.predict_on_batch(inputs)).dtype == np.float32
    set_precision(model, "fp32")
    np.testing.assert_array_equal(np.asarray(model.predict_on_batch(inputs)), expected)


def test_bf16_scores_stay_within_a_hundredth_and_keep_the_order(repo_model):
    from iqa_keras import Scorer

    pairs = _pairs()
    fp32 = Scorer(repo_model).score_pairs(pairs)
    bf16 = Scorer(repo_model, precision="bf16").score_pairs(pairs)
    assert np.ptp(fp32) > 0.5  # the pairs span a good part of the scale
    assert np.abs(bf16 - fp32).max() < 0.01
    assert stats.spearmanr(bf16, fp32)[0] > 0.99


def test_unknown_precision_is_refused_before_loading():
    from iqa_keras import Scorer

    with pytest.raises(ValueError, match="precision must be one of"):
        Scorer("no/such/model.keras", precision="fp16")


def test_training_in_mixed_bfloat16_learns_and_scores_in_float32_by_default(tmp_path, embedded_cache):
    from helpers import tiny_config, write_config
    from iqa_keras import Scorer, load_model
    from iqa_keras.config import ConfigError, load_config
    from iqa_keras.training import train

    config = write_config(tmp_path / "bf16.toml", tiny_config(embedded_cache, train={"epochs": 1, "precision": "mixed_bfloat16"}))
    run_dir = train(load_config(config), tmp_path / "run")
    model = load_model(run_dir / "best.keras")
    assert {layer.compute_dtype for layer in model.layers if layer.weights} >= {"bfloat16"}
    scorer = Scorer(model)  # float32 unless asked
    assert all(layer.compute_dtype == "float32" for layer in model._flatten_layers(include_self=False))
    assert np.isfinite(scorer.score_pair(*_pairs(1, 48)[0]))
    with pytest.raises(ConfigError, match="train.precision: expected one of float32, mixed_bfloat16"):
        load_config(config, ["train.precision=bf16"])
