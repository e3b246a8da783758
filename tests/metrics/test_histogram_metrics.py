"""NIMA metrics against scipy, a numpy EMD loop and a hand-built confusion matrix; the NIMA loss."""
import numpy as np
import pytest
from scipy import stats

from iqa_keras.metrics.histogram import (
    binary_accuracy,
    confusion_matrix,
    emd,
    format_nima_report,
    nima_report,
    rounded_bins,
)

SCORES = np.arange(1, 11, dtype=float)


def _random_histograms(rng, n):
    return rng.dirichlet(np.full(10, 0.7), size=n)


def _emd_loop(t, p, r):
    """EMD written out with explicit loops over images and bins."""
    values = []
    for ti, pi in zip(t, p):
        ti, pi = ti / ti.sum(), pi / pi.sum()
        cdf_t = cdf_p = 0.0
        total = 0.0
        for k in range(len(ti)):
            cdf_t += ti[k]
            cdf_p += pi[k]
            total += abs(cdf_t - cdf_p) ** r
        values.append((total / len(ti)) ** (1.0 / r))
    return float(np.mean(values))


def test_emd_against_a_numpy_loop(rng):
    t, p = _random_histograms(rng, 7), _random_histograms(rng, 7)
    for r in (1, 2):
        assert emd(t, p, r) == pytest.approx(_emd_loop(t, p, r), abs=1e-12)
    assert emd(t, t, 2) == 0.0
    # counts are normalised first
    assert emd(t * 37.0, p, 1) == pytest.approx(_emd_loop(t, p, 1), abs=1e-12)
    # one-hot at bin 1 vs one-hot at bin 10: |CDF difference| is 1 on bins 1..9
    a, b = np.eye(10)[[0]], np.eye(10)[[9]]
    assert emd(a, b, 1) == pytest.approx(0.9) and emd(a, b, 2) == pytest.approx(np.sqrt(0.9))
    with pytest.raises(ValueError, match="r must be"):
        emd(t, p, 3)


def test_nima_loss_and_emd_loss_match_the_numpy_loop(rng):
    from iqa_keras.losses import EMD
    from iqa_keras.losses.histogram import NIMALoss

    t = _random_histograms(rng, 5).astype("float32")
    p = _random_histograms(rng, 5).astype("float32")
    for r in (1, 2):
        assert float(NIMALoss(r=r)(t, p)) == pytest.approx(_emd_loop(t, p, r), abs=1e-5)
        assert float(EMD(r=r)(t, p)) == pytest.approx(_emd_loop(t, p, r), abs=1e-5)
    # with the moments term: + w * ((mean_t - mean_p)^2 + (std_t - std_p)^2), averaged over the batch
    mt, mp = t @ SCORES, p @ SCORES
    st = np.sqrt(t @ SCORES**2 - mt**2)
    sp = np.sqrt(p @ SCORES**2 - mp**2)
    expected = _emd_loop(t, p, 2) + 0.3 * np.mean((mt - mp) ** 2 + (st - sp) ** 2)
    assert float(NIMALoss(moments_weight=0.3)(t, p)) == pytest.approx(expected, rel=1e-4)
    chi = 0.5 * np.sum((t - p) ** 2 / (t + p), axis=1).mean()
    assert float(NIMALoss(chi_square_weight=2.0)(t, p)) == pytest.approx(_emd_loop(t, p, 2) + 2 * chi, rel=1e-4)


def test_confusion_matrix_by_hand():
    true = [1.2, 4.49, 4.5, 5.51, 9.9, 0.3]
    pred = [1.6, 4.2, 6.1, 5.4, 12.0, 2.5]
    # rounded half-up and clipped: true -> 1, 4, 5, 6, 10, 1; pred -> 2, 4, 6, 5, 10, 3
    assert rounded_bins(true).tolist() == [1, 4, 5, 6, 10, 1]
    expected = np.zeros((10, 10), int)
    for row, column in [(1, 2), (4, 4), (5, 6), (6, 5), (10, 10), (1, 3)]:
        expected[row - 1, column - 1] += 1
    np.testing.assert_array_equal(confusion_matrix(true, pred), expected)


def test_binary_accuracy_by_hand():
    true = [4.0, 6.0, 5.0, 7.0]
    pred = [4.5, 5.5, 5.2, 4.9]  # agree, agree, disagree (5 is not > 5), disagree
    assert binary_accuracy(true, pred, 5.0) == 0.5


def test_nima_report_against_scipy(rng):
    t, p = _random_histograms(rng, 40), _random_histograms(rng, 40)
    report = nima_report(t, p, threshold=5.0)
    mt, mp = t @ SCORES, p @ SCORES
    st = np.sqrt(t @ SCORES**2 - mt**2)
    sp = np.sqrt(p @ SCORES**2 - mp**2)
    assert report["n"] == 40
    assert report["mean"]["lcc"] == pytest.approx(stats.pearsonr(mp, mt)[0], abs=1e-10)
    assert report["mean"]["srcc"] == pytest.approx(stats.spearmanr(mp, mt)[0], abs=1e-10)
    assert report["mean"]["krcc"] == pytest.approx(stats.kendalltau(mp, mt)[0], abs=1e-10)
    assert report["std"]["lcc"] == pytest.approx(stats.pearsonr(sp, st)[0], abs=1e-10)
    assert report["std"]["srcc"] == pytest.approx(stats.spearmanr(sp, st)[0], abs=1e-10)
    assert report["emd_r1"] == pytest.approx(_emd_loop(t, p, 1), abs=1e-12)
    assert report["emd_r2"] == pytest.approx(_emd_loop(t, p, 2), abs=1e-12)
    assert report["binary_accuracy"] == pytest.approx(np.mean((mt > 5) == (mp > 5)))
    assert np.sum(report["confusion_matrix"]) == 40
    text = format_nima_report(report)
    assert "EMD r=1" in text and "binary accuracy" in text and text.count("[") == 10


def test_report_of_constant_predictions_has_undefined_correlations(rng):
    t = _random_histograms(rng, 10)
    p = np.tile(np.full(10, 0.1), (10, 1))
    report = nima_report(t, p)
    assert report["mean"]["lcc"] is None and report["std"]["srcc"] is None
    assert "n/a" in format_nima_report(report)


def test_std_of_score_differences_by_hand():
    """The Keras NIMA reproduction's figure: np.std of |predicted mean - true mean| (population std)."""
    from iqa_keras.metrics import std_of_score_differences

    true, predicted = [5.0, 6.0, 4.0, 5.5], [5.5, 5.0, 4.0, 6.5]  # |differences| = 0.5, 1, 0, 1
    mean = (0.5 + 1 + 0 + 1) / 4
    expected = np.sqrt(((0.5 - mean) ** 2 + 2 * (1 - mean) ** 2 + mean**2) / 4)
    assert std_of_score_differences(true, predicted) == pytest.approx(expected)
    one_hot = np.eye(10)[[4, 5, 3]]  # means 5, 6, 4
    report = nima_report(one_hot, np.eye(10)[[5, 5, 3]])  # means 6, 6, 4: |d| = 1, 0, 0
    assert report["std_of_score_differences"] == pytest.approx(np.std([1.0, 0.0, 0.0]))
