"""NIMA training targets: 10-bin score histograms from votes or from (mean, std).

NIMA predicts a distribution over the ordered scores 1..10. Datasets give that
distribution in one of three ways:

* vote counts per score (AVA: ``vote_1`` .. ``vote_10``) -> normalised histograms
  (:func:`votes_to_histograms`);
* a mean and a standard deviation (TID2013, the embedded set, ...) -> the
  maximum-entropy distribution on the bins with that mean and standard
  deviation (:func:`max_entropy_distribution`), the exponential family
  ``p_i ~ exp(a i + b i^2)``; with the mean alone, ``p_i ~ exp(a i)``;
* the same, as a discretised Gaussian (:func:`gaussian_histogram`), whose mean
  and standard deviation only approximate the asked ones near the ends.

A dataset's MOS lives on its own range (TID2013: 0..9, KonIQ: 1..5, LIVE: DMOS
0..100, lower is better), so mapping it onto bins 1..10 is explicit and per
dataset (``iqa_keras.scales.dataset_scale``): TID2013's MOS 0 is bin 1
and 9 is bin 10 (``bin = mos + 1``, nothing shifts silently), and predicted
means map back to the dataset's scale with ``ScoreScale.from_bins``.

Feasibility on 10 bins: for a mean ``m`` strictly between 1 and 10 the
variance must lie between ``(m - k)(k + 1 - m)`` (all mass on the two bins
around ``m``, ``k = floor(m)``) and ``(m - 1)(10 - m)`` (all mass on bins 1
and 10). A standard deviation outside that range is clipped to it and the
boundary distribution (two points) is returned; :func:`feasible_std_range`
tells the range. TID2013's reported deviations (~0.15) are often below the
lower bound, which is why its max-entropy targets are nearly one- or two-hot.
"""
from __future__ import annotations

import math

import numpy as np

from ..scales import BINS, ScoreScale

HISTOGRAM_COLUMNS = tuple(f"hist_{i}" for i in range(1, BINS + 1))
VOTE_COLUMNS = tuple(f"vote_{i}" for i in range(1, BINS + 1))
TARGET_MODES = ("auto", "votes", "max_entropy", "max_entropy_mean", "gaussian")


# ----------------------------------------------------------------- votes
def votes_to_histograms(votes) -> np.ndarray:
    """``(N, K)`` vote counts -> ``(N, K)`` float64 histograms summing to 1 (rows with no votes are errors)."""
    votes = np.asarray(votes, dtype=np.float64)
    if votes.ndim != 2:
        raise ValueError(f"votes: expected a (N, K) array, got shape {votes.shape}")
    if np.any(votes < 0) or not np.all(np.isfinite(votes)):
        row = int(np.argwhere((votes < 0) | ~np.isfinite(votes))[0, 0])
        raise ValueError(f"votes: row {row} has a negative or non-finite count: {votes[row].tolist()}")
    totals = votes.sum(axis=1, keepdims=True)
    if np.any(totals <= 0):
        raise ValueError(f"votes: row {int(np.argmin(totals[:, 0]))} has no votes")
    return votes / totals


def feasible_std_range(mean: float, bins: int = BINS) -> tuple[float, float]:
    """``(smallest, largest)`` standard deviation a distribution on ``1..bins`` with this mean can have."""
    if not 1.0 <= mean <= bins:
        raise ValueError(f"mean {mean} is outside the bins 1..{bins}")
    k = min(math.floor(mean), bins - 1)
    return math.sqrt(max((mean - k) * (k + 1 - mean), 0.0)), math.sqrt(max((mean - 1) * (bins - mean), 0.0))


def _two_point(mean: float, low: int, high: int, bins: int) -> np.ndarray:
    p = np.zeros(bins)
    if high == low:
        p[low - 1] = 1.0
        return p
    weight_high = (mean - low) / (high - low)
    p[low - 1] += 1.0 - weight_high
    p[high - 1] += weight_high
    return p


def _log_softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max()
    return shifted - math.log(np.exp(shifted).sum())


def _newton_max_entropy(features: np.ndarray, targets: np.ndarray, start: np.ndarray,
                        tolerance: float, max_iterations: int = 500) -> tuple[np.ndarray, float]:
    """Minimises the convex dual ``log sum exp(F theta) - theta . targets``; returns (p, |gradient|).

    ``features``: ``(bins, d)`` sufficient statistics per bin; the optimum is
    the maximum-entropy distribution whose feature expectations are ``targets``.
    """
    theta = start.astype(np.float64)

    def dual(theta):
        logits = features @ theta
        top = logits.max()
        return top + math.log(np.exp(logits - top).sum()) - float(theta @ targets)

    value = dual(theta)
    gradient_norm = math.inf
    for _ in range(max_iterations):
        p = np.exp(_log_softmax(features @ theta))
        expectation = p @ features
        gradient = expectation - targets
        gradient_norm = float(np.max(np.abs(gradient)))
        if gradient_norm < tolerance:
            break
        centred = features - expectation
        hessian = centred.T @ (centred * p[:, None])
        hessian += 1e-14 * np.eye(len(theta))
        try:
            direction = -np.linalg.solve(hessian, gradient)
        except np.linalg.LinAlgError:
            direction = -np.linalg.lstsq(hessian, gradient, rcond=None)[0]
        step, decrease = 1.0, float(gradient @ direction)
        while True:
            candidate = theta + step * direction
            candidate_value = dual(candidate)
            if candidate_value <= value + 1e-4 * step * decrease or step < 1e-30:
                break
            step *= 0.5
        if not candidate_value < value:  # no further decrease: converged to round-off
            break
        theta, value = candidate, candidate_value
    p = np.exp(_log_softmax(features @ theta))
    return p / p.sum(), gradient_norm


def max_entropy_distribution(mean: float, std: float | None = None, bins: int = BINS,
                             tolerance: float = 1e-11) -> np.ndarray:
    """The maximum-entropy distribution on scores ``1..bins`` with this mean (and standard deviation).

    ``std=None``: constrained by the mean alone (``p_i ~ exp(a i)``; the
    uniform distribution when the mean is the middle score). Otherwise
    ``p_i ~ exp(a i + b i^2)``; a ``std`` outside :func:`feasible_std_range`
    is clipped to it and the (unique) two-point distribution at the bound is
    returned. A mean at or beyond an end bin gives all mass to that bin.
    """
    mean = float(mean)
    if not math.isfinite(mean):
        raise ValueError(f"max_entropy_distribution: mean must be finite, got {mean}")
    if mean <= 1.0 or mean >= bins:  # all mass on the end bin
        end = 1 if mean <= 1.0 else bins
        return _two_point(float(end), end, end, bins)
    centred = np.arange(1, bins + 1, dtype=np.float64) - mean  # centring keeps the dual well conditioned
    if std is None:
        p, _ = _newton_max_entropy(centred[:, None], np.zeros(1), np.zeros(1), tolerance)
        return p
    std = float(std)
    if not math.isfinite(std) or std < 0:
        raise ValueError(f"max_entropy_distribution: std must be finite and >= 0, got {std}")
    low_std, high_std = feasible_std_range(mean, bins)
    # Within a relative 1e-9 of a bound the exponential family needs parameters
    # beyond float range; the bound's two-point distribution is the limit.
    if std * std <= low_std * low_std * (1 + 1e-9) + 1e-15:
        k = min(math.floor(mean), bins - 1)
        return _two_point(mean, k, k + 1, bins)
    if std * std >= high_std * high_std * (1 - 1e-9):
        return _two_point(mean, 1, bins, bins)
    features = np.stack([centred, centred**2], axis=1)
    start = np.array([0.0, -0.5 / std**2 if std < 2.0 else 0.0])
    p, _ = _newton_max_entropy(features, np.array([0.0, std * std]), start, tolerance)
    return p


def max_entropy_histograms(means, stds=None, bins: int = BINS) -> np.ndarray:
    """``(N, bins)`` maximum-entropy histograms for arrays of means (and standard deviations), in bin units."""
    means = np.asarray(means, dtype=np.float64).reshape(-1)
    if stds is None:
        return np.stack([max_entropy_distribution(m, None, bins) for m in means]) if means.size else np.zeros((0, bins))
    stds = np.asarray(stds, dtype=np.float64).reshape(-1)
    if stds.shape != means.shape:
        raise ValueError(f"max_entropy_histograms: {means.size} means but {stds.size} standard deviations")
    cache: dict = {}
    rows = []
    for m, s in zip(means, stds):
        key = (m, s)
        if key not in cache:
            cache[key] = max_entropy_distribution(m, s, bins)
        rows.append(cache[key])
    return np.stack(rows) if rows else np.zeros((0, bins))


def gaussian_histogram(mean: float, std: float, bins: int = BINS) -> np.ndarray:
    """A Gaussian ``N(mean, std^2)`` discretised on bins ``[i - 1/2, i + 1/2)``, the end bins taking the tails.

    Simple and smooth, but its mean and standard deviation drift from the
    asked ones when the Gaussian reaches past bin 1 or ``bins``.
    ``std = 0`` puts all mass in the bin containing the mean.
    """
    from scipy import stats

    mean, std = float(mean), float(std)
    if not (math.isfinite(mean) and math.isfinite(std)) or std < 0:
        raise ValueError(f"gaussian_histogram: need finite mean and std >= 0, got {mean}, {std}")
    if std == 0:
        p = np.zeros(bins)
        p[int(min(max(math.floor(mean + 0.5), 1), bins)) - 1] = 1.0
        return p
    edges = np.arange(1.5, bins, 1.0)  # inner edges 1.5 .. bins - 0.5
    cdf = stats.norm.cdf((edges - mean) / std)
    cdf = np.concatenate([[0.0], cdf, [1.0]])
    p = np.diff(cdf)
    return p / p.sum()


def gaussian_histograms(means, stds, bins: int = BINS) -> np.ndarray:
    means = np.asarray(means, dtype=np.float64).reshape(-1)
    stds = np.asarray(stds, dtype=np.float64).reshape(-1)
    if stds.shape != means.shape:
        raise ValueError(f"gaussian_histograms: {means.size} means but {stds.size} standard deviations")
    return np.stack([gaussian_histogram(m, s, bins) for m, s in zip(means, stds)]) if means.size else np.zeros((0, bins))


# ----------------------------------------------------------------- record tables
def has_votes(records) -> bool:
    """True when the table has ten vote columns with values on every row."""
    return all(c in records.columns for c in VOTE_COLUMNS) and bool(records[list(VOTE_COLUMNS)].notna().all().all())


def resolve_mode(records, mode: str) -> str:
    """``auto`` -> ``votes`` when the table has 10-bin votes, else ``max_entropy`` with
    standard deviations present, else ``max_entropy_mean``."""
    if mode not in TARGET_MODES:
        raise ValueError(f"NIMA targets: unknown mode {mode!r}; expected one of {', '.join(TARGET_MODES)}")
    if mode != "auto":
        return mode
    if has_votes(records):
        return "votes"
    if "mos_std" in records.columns and records["mos_std"].notna().all():
        return "max_entropy"
    return "max_entropy_mean"


def histogram_targets(records, scale: ScoreScale, mode: str = "auto", std_scale: float = 1.0) -> np.ndarray:
    """``(N, 10)`` target histograms for the rows of a record table.

    ``votes`` uses ``vote_1..vote_10``; the other modes map ``mos`` (and
    ``mos_std`` times ``std_scale``) onto the bins with ``scale`` first.
    """
    mode = resolve_mode(records, mode)
    if mode == "votes":
        missing = [c for c in VOTE_COLUMNS if c not in records.columns]
        if missing:
            raise ValueError(f"NIMA targets 'votes': the records lack the columns {missing}")
        return votes_to_histograms(records[list(VOTE_COLUMNS)].to_numpy(dtype=np.float64))
    means = scale.to_bins(records["mos"].to_numpy(dtype=np.float64))
    if mode == "max_entropy_mean":
        return max_entropy_histograms(means)
    if "mos_std" not in records.columns or records["mos_std"].isna().any():
        bad = records.index[records["mos_std"].isna()][0] if "mos_std" in records.columns else None
        raise ValueError(
            f"NIMA targets {mode!r} need mos_std on every row"
            + (f" (row {bad} has none)" if bad is not None else " (the records have no mos_std column)")
            + "; use targets = \"max_entropy_mean\""
        )
    stds = scale.std_to_bins(records["mos_std"].to_numpy(dtype=np.float64)) * float(std_scale)
    if mode == "max_entropy":
        return max_entropy_histograms(means, stds)
    return gaussian_histograms(means, stds)
