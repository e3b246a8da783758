"""The ranking network's accuracy test: surrogate Spearman rho against scipy's, on several distributions."""
from __future__ import annotations

import numpy as np

from .weights import RANK_WIDTH


def _draw_test_vectors(distribution: str, rng: np.random.Generator, count: int) -> np.ndarray:
    if distribution == "normal":
        return rng.normal(0.0, 1.0, size=(count, RANK_WIDTH))
    if distribution == "uniform":
        return rng.uniform(-10.0, 10.0, size=(count, RANK_WIDTH))
    if distribution == "ties":
        return np.round(rng.normal(0.0, 1.0, size=(count, RANK_WIDTH)) / 0.25) * 0.25
    raise ValueError(f"unknown test distribution {distribution!r}; known: {', '.join(TEST_DISTRIBUTIONS)}")


TEST_DISTRIBUTIONS = {
    "normal": "N(0, 1) (the reference's test)",
    "uniform": "U(-10, 10)",
    "ties": "ties: N(0, 1) rounded to 0.25 (~6 of 16 tied)",
}
# Largest acceptable mean |true rho - surrogate rho| per distribution.
ACCURACY_TARGETS = {"normal": 0.03, "uniform": 0.03, "ties": 0.05}


def spearman_from_ranks(ranks_a, ranks_b):
    """Spearman's rho from two rank vectors by the reference formula 1 - 6 sum d^2 / (n (n^2 - 1))."""
    ranks_a = np.asarray(ranks_a, dtype=np.float64)
    ranks_b = np.asarray(ranks_b, dtype=np.float64)
    n = ranks_a.shape[-1]
    return 1.0 - 6.0 * np.sum((ranks_a - ranks_b) ** 2, axis=-1) / (n * (n * n - 1))


def evaluate_ranking_network(model, pairs: int = 1000, seed: int = 0, distributions=None) -> dict:
    """The reference's accuracy test on several distributions.

    For each distribution, ``pairs`` pairs of 16-vectors are drawn; the true
    Spearman rho comes from ``scipy.stats.spearmanr``, the surrogate from the
    network's rank outputs by the reference formula. Returns, per distribution,
    ``mae`` (mean |true - surrogate|), ``max`` (largest difference),
    ``rank_mae`` (mean |network rank - exact average rank|) and ``floor`` (the
    mean difference the formula makes with exact average ranks: not zero with ties).
    """
    from scipy import stats

    rng = np.random.default_rng(seed)
    results = {}
    for name in distributions or TEST_DISTRIBUTIONS:
        a = _draw_test_vectors(name, rng, pairs)
        b = _draw_test_vectors(name, rng, pairs)
        predicted = model.predict(np.concatenate([a, b]).astype(np.float32), batch_size=1000, verbose=0)
        predicted_a, predicted_b = predicted[:pairs].astype(np.float64), predicted[pairs:].astype(np.float64)
        true = np.array([stats.spearmanr(x, y)[0] for x, y in zip(a, b)])
        surrogate = spearman_from_ranks(predicted_a, predicted_b)
        exact_a = stats.rankdata(a, axis=1)
        exact_b = stats.rankdata(b, axis=1)
        formula = spearman_from_ranks(exact_a, exact_b)
        errors = np.abs(true - surrogate)
        results[name] = {
            "mae": float(errors.mean()),
            "max": float(errors.max()),
            "rank_mae": float(np.mean(np.abs(np.concatenate([predicted_a - exact_a, predicted_b - exact_b])))),
            "floor": float(np.mean(np.abs(true - formula))),
        }
    return results


def format_evaluation(results: dict) -> str:
    """The accuracy table that ``ranking_model/test.py`` prints."""
    lines = [
        f"{'distribution':<46} {'mean |d rho|':>12} {'target':>6} {'max |d rho|':>11} {'rank MAE':>9} {'floor':>7}",
    ]
    for name, row in results.items():
        label = TEST_DISTRIBUTIONS.get(name, name)
        target = ACCURACY_TARGETS.get(name, float("nan"))
        lines.append(f"{label:<46} {row['mae']:>12.4f} {target:>6.2f} {row['max']:>11.4f} "
                     f"{row['rank_mae']:>9.4f} {row['floor']:>7.4f}")
    return "\n".join(lines)
