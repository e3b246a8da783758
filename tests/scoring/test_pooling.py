"""Texture-weighted pooling of patch scores: weights against scipy's Sobel, scores against hand-weighted means."""
import numpy as np
import pytest
import tensorflow as tf
from scipy import ndimage

from iqa_keras.metrics.classical.colour import LUMA_WEIGHTS
from iqa_keras.model_io import ModelInfo
from iqa_keras.scoring.pooling import TEXTURE_FLOOR, check_pooling, patch_texture, pool_scores
from iqa_keras.scoring.scorer import Scorer
from test_scoring import predict, sensitive_model

LUMA = np.array(LUMA_WEIGHTS)  # BT.601 luma, the convention of the package's classical metrics


def scipy_texture(patch: np.ndarray) -> float:
    """Mean Sobel gradient magnitude (grey levels per pixel) of the patch's luma, interior pixels only."""
    luma = patch.astype(np.float64) @ LUMA
    gy, gx = ndimage.sobel(luma, axis=0) / 8.0, ndimage.sobel(luma, axis=1) / 8.0
    return float(np.hypot(gx, gy)[1:-1, 1:-1].mean()) + TEXTURE_FLOOR


def test_texture_of_flat_and_ramp_patches_by_hand():
    flat = np.full((1, 16, 16, 3), 90, np.uint8)
    ramp = np.broadcast_to((np.arange(16) * 3.0)[None, None, :, None], (1, 16, 16, 3)).astype(np.uint8)
    values = patch_texture(tf.constant(np.concatenate([flat, ramp]))).numpy()
    # flat: no gradient, only the floor; a horizontal ramp of 3 grey levels per pixel: magnitude 3
    np.testing.assert_allclose(values, [TEXTURE_FLOOR, 3.0 + TEXTURE_FLOOR], rtol=1e-5)


def test_texture_matches_scipy_sobel_on_random_patches(rng):
    patches = rng.integers(0, 256, (3, 24, 20, 3), dtype=np.uint8)
    expected = [scipy_texture(p) for p in patches]
    np.testing.assert_allclose(patch_texture(tf.constant(patches)).numpy(), expected, rtol=1e-4)


def test_texture_pooling_weighs_each_patch_by_its_reference_texture(rng):
    model = sensitive_model(0, mean=100.0, std=10.0)
    ref = rng.integers(0, 256, (40, 70, 3), dtype=np.uint8)
    ref[:, :35] = 128  # a flat left half: its patches weigh little
    dist = rng.integers(0, 256, (40, 70, 3), dtype=np.uint8)
    boxes = [(y, x) for y in (0, 8) for x in (0, 16, 32, 38)]  # stride 16 on 40 x 70 with 32-pixel patches
    scores = np.array([predict(model, ref[y:y + 32, x:x + 32], dist[y:y + 32, x:x + 32]) for y, x in boxes])
    weights = np.array([scipy_texture(ref[y:y + 32, x:x + 32]) for y, x in boxes])
    expected = float((scores * weights).sum() / weights.sum())
    assert abs(expected - scores.mean()) > 1e-3  # the two poolings differ on this pair
    scorer = Scorer(model, stride=16, batch_size=3, pooling="texture")
    assert scorer.score_pair(ref, dist) == pytest.approx(expected, abs=1e-4)
    assert scorer.patch_scores(ref, dist).score == pytest.approx(expected, abs=1e-4)
    assert Scorer(model, stride=16, pooling="mean").score_pair(ref, dist) == pytest.approx(scores.mean(), abs=1e-4)


def test_default_pooling_is_the_models_recorded_rule_and_members_must_agree(rng):
    plain = sensitive_model(0)
    textured = sensitive_model(1)
    textured.iqa_info = ModelInfo(**{**textured.iqa_info.__dict__, "pooling": "texture"})
    assert Scorer(plain).pooling == "mean"
    assert Scorer(textured).pooling == "texture"
    with pytest.raises(ValueError, match="different poolings"):
        Scorer([plain, textured])
    assert Scorer([plain, textured], pooling="mean").pooling == "mean"
    with pytest.raises(ValueError, match="unknown pooling 'max'"):
        check_pooling("max")


def test_worst30_is_the_mean_of_the_lowest_30_percent_by_hand(rng):
    scores = np.array([4.0, 1.0, 5.0, 3.0, 2.0, 4.5, 3.5, 2.5, 4.8, 3.9])
    assert pool_scores("worst30", scores) == pytest.approx((1.0 + 2.0 + 2.5) / 3)  # 30% of 10 patches: 3
    assert pool_scores("worst30", scores, higher_is_better=False) == pytest.approx((5.0 + 4.8 + 4.5) / 3)
    assert pool_scores("worst30", [3.0]) == 3.0  # one patch: itself
    model = sensitive_model(0, mean=100.0, std=10.0)
    ref = rng.integers(0, 256, (40, 70, 3), dtype=np.uint8)
    dist = rng.integers(0, 256, (40, 70, 3), dtype=np.uint8)
    boxes = [(y, x) for y in (0, 8) for x in (0, 16, 32, 38)]
    patch = np.sort([predict(model, ref[y:y + 32, x:x + 32], dist[y:y + 32, x:x + 32]) for y, x in boxes])
    expected = patch[:2].mean()  # round(0.3 * 8) = 2 patches
    scorer = Scorer(model, stride=16, batch_size=3, pooling="worst30")
    assert scorer.score_pair(ref, dist) == pytest.approx(expected, abs=1e-4)
    # pairs sharing batches are pooled separately
    both = scorer.score_pairs([(ref, dist), (dist, ref)])
    assert both[0] == pytest.approx(expected, abs=1e-4)


def test_config_output_pooling_is_checked_by_name(tmp_path):
    from iqa_keras.config import ConfigError, load_config

    path = tmp_path / "bad.toml"
    path.write_text('[output]\npooling = "max"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"output\.pooling: expected one of mean, texture, worst30, got 'max'"):
        load_config(path)
    path.write_text('[output]\npooling = "worst30"\n', encoding="utf-8")
    assert load_config(path).output.pooling == "worst30"
