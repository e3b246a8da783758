"""NIMA targets: max-entropy histograms (against scipy.optimize), Gaussian bins, score ranges, votes."""
import math

import numpy as np
import pandas as pd
import pytest
from scipy import optimize, stats

from iqa_keras.data.histogram_targets import (
    HISTOGRAM_COLUMNS,
    feasible_std_range,
    gaussian_histogram,
    histogram_targets,
    max_entropy_distribution,
    max_entropy_histograms,
    resolve_mode,
    votes_to_histograms,
)
from iqa_keras.scales import dataset_scale

SCORES = np.arange(1, 11, dtype=float)


def _moments(p):
    mean = float(p @ SCORES)
    return mean, math.sqrt(float(p @ (SCORES - mean) ** 2))


def _entropy(p):
    p = np.asarray(p, float)
    return float(-np.sum(p[p > 0] * np.log(p[p > 0])))


def _scipy_max_entropy(mean, std=None):
    """Maximum entropy by brute-force constrained optimisation (SLSQP), independent of the package."""
    constraints = [{"type": "eq", "fun": lambda p: np.sum(p) - 1.0},
                   {"type": "eq", "fun": lambda p: p @ SCORES - mean}]
    if std is not None:
        constraints.append({"type": "eq", "fun": lambda p: p @ (SCORES - mean) ** 2 - std**2})
    result = optimize.minimize(
        lambda p: np.sum(p * np.log(p)), np.full(10, 0.1), jac=lambda p: np.log(p) + 1.0, method="SLSQP",
        bounds=[(1e-12, 1.0)] * 10, constraints=constraints, options={"ftol": 1e-14, "maxiter": 1000},
    )
    assert result.success, result.message
    return np.clip(result.x, 0, None) / np.clip(result.x, 0, None).sum()


@pytest.mark.parametrize("mean,std", [(5.5, 2.0), (3.2, 1.1), (7.8, 0.9), (2.0, 2.5), (6.3, 0.6), (4.0, 2.9)])
def test_max_entropy_matches_scipy_optimisation(mean, std):
    p = max_entropy_distribution(mean, std)
    assert p.shape == (10,) and np.all(p >= 0)
    assert abs(p.sum() - 1) < 1e-12
    got_mean, got_std = _moments(p)
    assert abs(got_mean - mean) < 1e-4 and abs(got_std - std) < 1e-4
    reference = _scipy_max_entropy(mean, std)
    # The maximum: never below what a generic optimiser finds, and the same distribution.
    assert _entropy(p) >= _entropy(reference) - 1e-7
    np.testing.assert_allclose(p, reference, atol=2e-3)


@pytest.mark.parametrize("mean", [1.7, 4.2, 5.5, 8.9])
def test_max_entropy_with_the_mean_alone_matches_scipy(mean):
    p = max_entropy_distribution(mean)
    assert abs(p.sum() - 1) < 1e-12 and abs(_moments(p)[0] - mean) < 1e-6
    reference = _scipy_max_entropy(mean)
    assert _entropy(p) >= _entropy(reference) - 1e-7
    np.testing.assert_allclose(p, reference, atol=2e-3)
    if mean == 5.5:  # the middle score: uniform
        np.testing.assert_allclose(p, np.full(10, 0.1), atol=1e-9)


def test_max_entropy_hits_mean_and_std_across_the_feasible_range():
    rng = np.random.default_rng(0)
    for mean in np.r_[rng.uniform(1.02, 9.98, 25), [1.05, 4.001, 9.95, 5.0]]:
        low, high = feasible_std_range(mean)
        for fraction in (1e-6, 0.01, 0.3, 0.7, 0.99, 1 - 1e-6):
            std = math.sqrt(low**2 + fraction * (high**2 - low**2))
            p = max_entropy_distribution(mean, std)
            got_mean, got_std = _moments(p)
            assert abs(p.sum() - 1) < 1e-12
            assert abs(got_mean - mean) < 1e-4 and abs(got_std - std) < 1e-4, (mean, std, got_mean, got_std)


def test_feasible_range_by_hand_and_infeasible_stds_are_clipped():
    # mean 4.3: smallest variance 0.3 * 0.7 (bins 4 and 5), largest 3.3 * 5.7 (bins 1 and 10)
    low, high = feasible_std_range(4.3)
    assert low == pytest.approx(math.sqrt(0.21)) and high == pytest.approx(math.sqrt(3.3 * 5.7))
    # TID-like tiny std: the two-point distribution on bins 4 and 5
    np.testing.assert_allclose(max_entropy_distribution(4.3, 0.15), [0, 0, 0, 0.7, 0.3, 0, 0, 0, 0, 0], atol=1e-12)
    too_wide = max_entropy_distribution(4.3, 10.0)
    assert too_wide[0] == pytest.approx(5.7 / 9) and too_wide[-1] == pytest.approx(3.3 / 9)
    # means at or beyond the ends: all mass on the end bin
    assert max_entropy_distribution(0.5, 1.0)[0] == 1.0 and max_entropy_distribution(10.0)[-1] == 1.0
    with pytest.raises(ValueError):
        max_entropy_distribution(float("nan"), 1.0)


def test_histogram_batch_matches_single_rows():
    means, stds = np.array([2.5, 6.1, 2.5]), np.array([1.0, 1.7, 1.0])
    batch = max_entropy_histograms(means, stds)
    for row, m, s in zip(batch, means, stds):
        np.testing.assert_allclose(row, max_entropy_distribution(m, s))
    with pytest.raises(ValueError, match="standard deviations"):
        max_entropy_histograms(means, stds[:2])


def test_gaussian_histogram_against_scipy_norm():
    p = gaussian_histogram(5.5, 1.0)
    assert abs(p.sum() - 1) < 1e-12
    # bin 5 is [4.5, 5.5): Phi(0) - Phi(-1)
    assert p[4] == pytest.approx(stats.norm.cdf(0) - stats.norm.cdf(-1), abs=1e-12)
    # symmetric around 5.5; variance of a discretised unit Gaussian is about 1 + 1/12 (Sheppard)
    mean, std = _moments(p)
    assert mean == pytest.approx(5.5, abs=1e-12) and std**2 == pytest.approx(1 + 1 / 12, abs=2e-3)
    # end bins take the tails
    assert gaussian_histogram(1.0, 1.0)[0] == pytest.approx(stats.norm.cdf(0.5), abs=1e-12)
    assert gaussian_histogram(3.7, 0.0).tolist() == [0, 0, 0, 1, 0, 0, 0, 0, 0, 0]


def test_votes_and_record_targets():
    votes = np.array([[0, 1, 2, 3, 4, 0, 0, 0, 0, 0], [5, 0, 0, 0, 0, 0, 0, 0, 0, 5]], float)
    np.testing.assert_allclose(votes_to_histograms(votes), votes / votes.sum(1, keepdims=True))
    with pytest.raises(ValueError, match="row 1 has no votes"):
        votes_to_histograms(np.array([[1] * 10, [0] * 10]))
    ava = pd.DataFrame(votes, columns=[f"vote_{i}" for i in range(1, 11)]).assign(mos=[4.0, 5.5], mos_std=[1.0, 4.5])
    assert resolve_mode(ava, "auto") == "votes"
    np.testing.assert_allclose(histogram_targets(ava, dataset_scale("ava")), votes / votes.sum(1, keepdims=True))
    tid = pd.DataFrame({"mos": [0.0, 4.5, 9.0], "mos_std": [0.2, 1.0, 0.2]})
    assert resolve_mode(tid, "auto") == "max_entropy"
    targets = histogram_targets(tid, dataset_scale("tid2013"))
    assert targets.shape == (3, 10) and list(HISTOGRAM_COLUMNS)[0] == "hist_1"
    np.testing.assert_allclose(targets @ SCORES, [1.0, 5.5, 10.0], atol=1e-8)  # MOS + 1, no shift lost
    mean_only = histogram_targets(tid.drop(columns="mos_std"), dataset_scale("tid2013"))
    np.testing.assert_allclose(mean_only[1], np.full(10, 0.1), atol=1e-9)
    with pytest.raises(ValueError, match="mos_std"):
        histogram_targets(tid.assign(mos_std=[0.2, None, 0.2]), dataset_scale("tid2013"), "gaussian")
