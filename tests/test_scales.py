"""Score scales against hand computations and the datasets' published score conventions."""
import numpy as np
import pytest

from iqa_keras.scales import (
    DATASET_SCALES,
    ScoreScale,
    dataset_scale,
    denormalise,
    fit_standardisation,
    histogram_moments,
    normalise_scores,
)


def test_tid2013_range_maps_0_to_bin_1_and_9_to_bin_10():
    tid = dataset_scale("tid2013")
    np.testing.assert_allclose(tid.to_bins([0.0, 4.5, 9.0]), [1.0, 5.5, 10.0])
    np.testing.assert_allclose(tid.from_bins([1.0, 5.5, 10.0]), [0.0, 4.5, 9.0])
    assert tid.std_to_bins(0.7) == pytest.approx(0.7)  # one MOS unit is one bin
    embedded = dataset_scale("embedded")
    np.testing.assert_allclose(embedded.to_bins([1.0, 3.0, 5.0]), [1.0, 5.5, 10.0])
    assert embedded.std_to_bins(0.4) == pytest.approx(0.9)
    live = dataset_scale("live")  # DMOS: lower is better, so DMOS 0 is the best bin
    np.testing.assert_allclose(live.to_bins([0.0, 100.0]), [10.0, 1.0])
    assert dataset_scale("ava").to_bins(7.3) == pytest.approx(7.3)
    with pytest.raises(ValueError, match="ranges"):
        dataset_scale("pipal")
    assert dataset_scale("pipal", [1000, 1900]).to_bins(1900) == pytest.approx(10.0)


def test_denormalize_coefficients_reproduce_from_bins():
    from iqa_keras.model_io import ModelInfo

    for scale in (*DATASET_SCALES.values(), ScoreScale(-3.0, 7.0, False)):
        mean, std = scale.denormalize_coefficients
        info = ModelInfo(score_mean=mean, score_std=std)
        # bins 1..10 onto [low, high] (reversed for a DMOS), interpolated by numpy
        ends = [scale.low, scale.high] if scale.higher_is_better else [scale.high, scale.low]
        for value in (1.0, 3.3, 10.0):
            assert info.denormalize(value) == pytest.approx(np.interp(value, [1.0, 10.0], ends))
    # by hand: TID2013 (0..9) is bin - 1; LIVE's DMOS 100..0 is 100 - (bin - 1) * 100 / 9
    assert dataset_scale("tid2013").denormalize_coefficients == pytest.approx((-1.0, 1.0))
    assert dataset_scale("live").denormalize_coefficients == pytest.approx((100 + 100 / 9, -100 / 9))


def test_directions_and_ranges_follow_the_datasets_publications():
    """LIVE and CSIQ publish DMOS (lower is better); TID MOS 0..9, KonIQ and KADID 1..5, AVA votes 1..10."""
    from iqa_keras.data import dataset_spec

    published = {"live": (False, (0, 100)), "csiq": (False, (0, 1)), "tid2008": (True, (0, 9)),
                 "tid2013": (True, (0, 9)), "koniq10k": (True, (1, 5)), "kadid10k": (True, (1, 5)),
                 "ava": (True, (1, 10)), "pieapp": (True, (0, 1))}
    for name, (higher_is_better, score_range) in published.items():
        spec = dataset_spec(name)
        assert spec.higher_is_better is higher_is_better, name
        assert spec.score_range == score_range, name
    assert dataset_spec("csv").score_range is None and dataset_spec("csv").higher_is_better


def test_standardisation_by_hand():
    mean, std = fit_standardisation([1.0, 2.0, 3.0, 6.0])
    assert mean == 3.0 and std == pytest.approx(np.sqrt((4 + 1 + 0 + 9) / 4))
    assert fit_standardisation([2.0, 2.0]) == (2.0, 1.0)  # constant scores: std 1, not a division by 0
    np.testing.assert_allclose(normalise_scores([1.0, 5.0], score_norm=(3.0, 2.0)), [-1.0, 1.0])
    per_db = normalise_scores([1.0, 50.0, 3.0], ["a", "b", "a"], {"a": (1.0, 2.0), "b": (60.0, -10.0)})
    np.testing.assert_allclose(per_db, [0.0, 1.0, 1.0])  # a negative std flips a lower-is-better scale
    np.testing.assert_allclose(normalise_scores([4.0, 7.0]), [4.0, 7.0])
    with pytest.raises(ValueError, match=r"\['c'\]"):
        normalise_scores([1.0], ["c"], {"a": (0.0, 1.0)})
    assert denormalise(np.array([-1.0, 1.0]), 3.0, 2.0).tolist() == [1.0, 5.0]


def test_histogram_moments_by_hand_for_arrays_and_tensors():
    import keras

    counts = np.array([[0, 0, 1, 0, 0, 0, 0, 0, 0, 3], [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]], float)
    expected_mean = [(3 + 3 * 10) / 4, 5.5]
    expected_std = [np.sqrt((3 - 8.25) ** 2 / 4 + 3 * (10 - 8.25) ** 2 / 4), np.sqrt(99 / 12)]
    mean, std = histogram_moments(counts)
    np.testing.assert_allclose(mean, expected_mean, rtol=1e-12)
    np.testing.assert_allclose(std, expected_std, rtol=1e-12)
    mean_t, std_t = histogram_moments(keras.ops.convert_to_tensor(counts.astype("float32")))
    np.testing.assert_allclose(keras.ops.convert_to_numpy(mean_t), expected_mean, rtol=1e-6)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(std_t), expected_std, rtol=1e-6)


def test_approximate_scales_need_an_explicit_range():
    assert DATASET_SCALES["pipal"].approximate
    assert ScoreScale(1000, 1900).to_bins(1000) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="no known score range"):
        dataset_scale("my_lab")
