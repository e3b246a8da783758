"""IQA evaluation metrics on whole sets: SRCC, PLCC, KRCC, RMSE, logistic mapping, confidence intervals.

Correlations are always computed over a whole evaluation set, never averaged
over batches: an average of per-batch SRCCs is not the set's SRCC.

* ``srcc``, ``plcc``, ``krcc``, ``rmse``: two 1-D arrays in, a float out
  (``nan`` when a correlation is undefined, e.g. a constant input).
* ``fit_logistic`` / ``plcc_logistic`` / ``rmse_logistic``: the VQEG
  monotonic logistic mapping (4 or 5 parameters) from predictions to MOS,
  then PLCC and RMSE of the mapped predictions.
* ``bootstrap_ci``: percentile bootstrap confidence interval of any metric.
* ``correlation_report``: all of the above for a set, overall and per dataset.
"""
from __future__ import annotations

import math
import warnings
from typing import Callable

import numpy as np

METRIC_NAMES = ("srcc", "plcc", "krcc", "rmse")


# ------------------------------------------------------------------ basic metrics
def _pair(a, b) -> tuple[np.ndarray, np.ndarray]:
    a = np.asarray(a, dtype=np.float64).reshape(-1)
    b = np.asarray(b, dtype=np.float64).reshape(-1)
    if a.shape != b.shape:
        raise ValueError(f"metrics: the two arrays differ in length ({a.size} and {b.size})")
    if a.size < 2:
        raise ValueError(f"metrics: need at least 2 values, got {a.size}")
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        raise ValueError("metrics: the arrays contain NaN or infinite values")
    return a, b


def rank_average(values) -> np.ndarray:
    """Ranks 1..n with ties given their average rank (what SRCC correlates)."""
    values = np.asarray(values, dtype=np.float64).reshape(-1)
    order = np.argsort(values, kind="mergesort")
    sorted_values = values[order]
    # Start index of each run of equal values, and the run each sorted position is in.
    starts = np.flatnonzero(np.r_[True, sorted_values[1:] != sorted_values[:-1]])
    ends = np.r_[starts[1:], values.size]
    run_rank = (starts + ends + 1) / 2.0  # mean of ranks starts+1 .. ends
    run_of_position = np.cumsum(np.r_[True, sorted_values[1:] != sorted_values[:-1]]) - 1
    ranks = np.empty(values.size)
    ranks[order] = run_rank[run_of_position]
    return ranks


def pearson_r(x, y, epsilon: float = 0.0, xp=np):
    """Pearson's r of two 1-D arrays: the one implementation every metric and loss uses.

    ``xp``: the array library, NumPy (default: float64, exact) or
    ``keras.ops`` (tensors, differentiable: the Pearson losses). ``epsilon``
    is added to each sum of squares; 0 gives the textbook r, which is ``nan``
    when either input is constant. A small ``epsilon`` keeps r and its gradient
    finite for a constant batch (r is then 0) and is negligible once the spread
    is well above ``sqrt(epsilon)``.
    """
    dx = x - xp.mean(x)
    dy = y - xp.mean(y)
    covariance = xp.sum(dx * dy)
    with np.errstate(invalid="ignore", divide="ignore"):
        norm = xp.sqrt(xp.sum(dx * dx) + epsilon) * xp.sqrt(xp.sum(dy * dy) + epsilon)
        return xp.clip(covariance / norm, -1.0, 1.0)


def _pearson(a: np.ndarray, b: np.ndarray) -> float:
    return float(pearson_r(a, b))


def plcc(predictions, targets) -> float:
    """Pearson linear correlation coefficient (``nan`` when either input is constant)."""
    return _pearson(*_pair(predictions, targets))


def srcc(predictions, targets) -> float:
    """Spearman rank-order correlation: Pearson of the average ranks (``nan`` for constant input)."""
    a, b = _pair(predictions, targets)
    return _pearson(rank_average(a), rank_average(b))


def krcc(predictions, targets) -> float:
    """Kendall's tau-b (ties handled as scipy's default), ``nan`` for constant input."""
    from scipy import stats

    a, b = _pair(predictions, targets)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tau = stats.kendalltau(a, b).statistic
    return float(tau)


def rmse(predictions, targets) -> float:
    """Root mean squared error, in the units of the inputs."""
    a, b = _pair(predictions, targets)
    return float(np.sqrt(np.mean((a - b) ** 2)))


METRICS: dict[str, Callable] = {"srcc": srcc, "plcc": plcc, "krcc": krcc, "rmse": rmse}


# ------------------------------------------------------------- logistic mapping
def logistic4(x, b1, b2, b3, b4):
    """VQEG 4-parameter logistic: ``(b1 - b2) / (1 + exp(-(x - b3) / |b4|)) + b2``."""
    z = np.clip(-(np.asarray(x, dtype=np.float64) - b3) / (abs(b4) + 1e-12), -500, 500)
    return (b1 - b2) / (1.0 + np.exp(z)) + b2


def logistic5(x, b1, b2, b3, b4, b5):
    """VQEG 5-parameter logistic: ``b1 (1/2 - 1 / (1 + exp(b2 (x - b3)))) + b4 x + b5``."""
    x = np.asarray(x, dtype=np.float64)
    z = np.clip(b2 * (x - b3), -500, 500)
    return b1 * (0.5 - 1.0 / (1.0 + np.exp(z))) + b4 * x + b5


class LogisticMapping:
    """A fitted logistic map from predictions to MOS; call it on predictions."""

    def __init__(self, parameters: int, coefficients):
        self.parameters = parameters
        self.coefficients = np.asarray(coefficients, dtype=np.float64)

    def __call__(self, x) -> np.ndarray:
        function = logistic4 if self.parameters == 4 else logistic5
        return function(x, *self.coefficients)

    def __repr__(self) -> str:
        return f"LogisticMapping({self.parameters}, {self.coefficients.tolist()})"


def fit_logistic(predictions, targets, parameters: int = 4, max_evaluations: int = 20000) -> LogisticMapping:
    """Least-squares fit of the VQEG logistic (``parameters`` = 4 or 5) mapping predictions to targets.

    Starts from the usual guesses (the targets' range, the predictions' median
    and spread, the slope's sign from the PLCC). If the fit does not converge,
    falls back to the best linear map (written as a 5-parameter logistic with
    b1 = 0), so the result is always usable.
    """
    from scipy import optimize

    if parameters not in (4, 5):
        raise ValueError(f"fit_logistic: parameters must be 4 or 5, got {parameters!r}")
    x, y = _pair(predictions, targets)
    spread = float(np.std(x)) or 1.0
    sign = 1.0 if (np.corrcoef(x, y)[0, 1] if np.std(y) > 0 else 1.0) >= 0 else -1.0
    if parameters == 4:
        start = [y.max(), y.min(), float(np.median(x)), spread / 2] if sign > 0 else \
                [y.min(), y.max(), float(np.median(x)), spread / 2]
        function = logistic4
    else:
        start = [sign * (y.max() - y.min()), 2.0 / spread, float(np.median(x)), 0.0, float(np.mean(y))]
        function = logistic5
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            coefficients, _ = optimize.curve_fit(function, x, y, p0=start, maxfev=max_evaluations)
        if not np.all(np.isfinite(coefficients)):
            raise RuntimeError("non-finite coefficients")
        return LogisticMapping(parameters, coefficients)
    except (RuntimeError, ValueError, optimize.OptimizeWarning):
        slope, intercept = np.polyfit(x, y, 1) if np.std(x) > 0 else (0.0, float(np.mean(y)))
        return LogisticMapping(5, [0.0, 1.0, 0.0, slope, intercept])


def plcc_logistic(predictions, targets, parameters: int = 4) -> float:
    """PLCC between targets and the logistic-mapped predictions."""
    mapping = fit_logistic(predictions, targets, parameters)
    return plcc(mapping(predictions), targets)


def rmse_logistic(predictions, targets, parameters: int = 4) -> float:
    """RMSE between targets and the logistic-mapped predictions (in target units)."""
    mapping = fit_logistic(predictions, targets, parameters)
    return rmse(mapping(predictions), targets)


# --------------------------------------------------------------------- bootstrap
def bootstrap_ci(predictions, targets, metric: Callable | str = "srcc", samples: int = 1000,
                 confidence: float = 0.95, seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap confidence interval of ``metric`` (resampling pairs with replacement)."""
    metric = METRICS[metric] if isinstance(metric, str) else metric
    a, b = _pair(predictions, targets)
    if not 0 < confidence < 1:
        raise ValueError(f"bootstrap_ci: confidence must be in (0, 1), got {confidence}")
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(int(samples)):
        index = rng.integers(0, a.size, a.size)
        value = metric(a[index], b[index])
        if np.isfinite(value):
            values.append(value)
    if not values:
        return (math.nan, math.nan)
    tail = (1.0 - confidence) / 2.0 * 100.0
    low, high = np.percentile(values, [tail, 100.0 - tail])
    return float(low), float(high)


# ------------------------------------------------------------------------ report
def _set_figures(a, b, logistic: bool, bootstrap: int, seed: int) -> dict:
    figures = {name: function(a, b) for name, function in METRICS.items()}
    figures["n"] = int(a.size)
    if logistic:
        for parameters in (4, 5):
            mapping = fit_logistic(a, b, parameters)
            figures[f"plcc_logistic{parameters}"] = plcc(mapping(a), b)
            figures[f"rmse_logistic{parameters}"] = rmse(mapping(a), b)
    if bootstrap:
        figures["ci95"] = {name: list(bootstrap_ci(a, b, name, samples=bootstrap, seed=seed)) for name in METRICS}
    return figures


def correlation_report(predictions, mos, db=None, *, logistic: bool = False, bootstrap: int = 0,
                       seed: int = 0) -> dict:
    """SRCC, PLCC, KRCC, RMSE of a whole set, and the same per dataset.

    Returns ``{"srcc", "plcc", "krcc", "rmse", "n", "per_db": {db: {...}}}``;
    ``per_db`` is empty when ``db`` (one dataset name per sample) is None.
    ``logistic=True`` adds ``plcc_logistic4/5`` and ``rmse_logistic4/5``;
    ``bootstrap=N`` adds ``ci95`` (N-sample percentile intervals, seeded).
    A dataset with fewer than 2 samples gets ``nan`` figures.
    """
    a, b = _pair(predictions, mos)
    report = _set_figures(a, b, logistic, bootstrap, seed)
    report["per_db"] = {}
    if db is not None:
        db = np.asarray(db).reshape(-1)
        if db.size != a.size:
            raise ValueError(f"correlation_report: db has {db.size} entries for {a.size} predictions")
        for name in sorted(set(db.tolist()), key=str):
            mask = db == name
            if mask.sum() < 2:
                report["per_db"][name] = {**{key: math.nan for key in METRICS}, "n": int(mask.sum())}
            else:
                report["per_db"][name] = _set_figures(a[mask], b[mask], logistic, bootstrap, seed)
    return report
