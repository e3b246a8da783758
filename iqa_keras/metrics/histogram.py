"""NIMA evaluation: what the NIMA paper and its reproductions report for predicted score histograms.

* LCC (Pearson) and SRCC of the histograms' mean scores and of their standard
  deviations, over the whole set;
* EMD with r = 1 ("EMD L1" in the NIMA reproductions) and r = 2 (the training loss),
  averaged over images;
* binary accuracy at a threshold (5 for AVA): the share of images whose
  predicted and true mean fall on the same side (``mean > threshold`` is "high");
* the 10 x 10 confusion matrix of rounded means (rows: true, columns:
  predicted; bin ``k`` holds the means in ``[k - 1/2, k + 1/2)``, clipped to 1..10);
* the Keras NIMA reproduction's "standard deviation of score differences":
  the (population) standard deviation of ``|predicted mean - true mean|``
  over the images (the spread of the absolute errors, not an RMSE).

All figures are in bin units (scores 1..10). :func:`nima_report` returns a
plain dict (JSON-ready, it goes into ``metrics.json``) and
:func:`format_nima_report` the text the training run prints.
"""
from __future__ import annotations

import numpy as np

from ..scales import BINS, histogram_moments
from .correlation import krcc, plcc, rmse, srcc


def _histograms(values, what: str) -> np.ndarray:
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 2 or values.shape[1] < 2:
        raise ValueError(f"{what}: expected (N, bins) histograms, got shape {values.shape}")
    totals = values.sum(axis=1, keepdims=True)
    if np.any(totals <= 0) or not np.all(np.isfinite(values)):
        raise ValueError(f"{what}: every histogram must be finite with a positive sum")
    return values / totals


def emd(true_histograms, predicted_histograms, r: int = 2) -> float:
    """Mean over images of ``(mean_k |CDF_true(k) - CDF_pred(k)|^r)^(1/r)``."""
    if r not in (1, 2):
        raise ValueError(f"emd: r must be 1 or 2, got {r!r}")
    t = _histograms(true_histograms, "emd true")
    p = _histograms(predicted_histograms, "emd predicted")
    if t.shape != p.shape:
        raise ValueError(f"emd: shapes differ, {t.shape} and {p.shape}")
    difference = np.abs(np.cumsum(t, axis=1) - np.cumsum(p, axis=1))
    return float(np.mean(np.mean(difference**r, axis=1) ** (1.0 / r)))


def binary_accuracy(true_means, predicted_means, threshold: float = 5.0) -> float:
    """Share of images where ``mean > threshold`` agrees between truth and prediction."""
    t = np.asarray(true_means, dtype=np.float64).reshape(-1)
    p = np.asarray(predicted_means, dtype=np.float64).reshape(-1)
    if t.shape != p.shape or t.size == 0:
        raise ValueError(f"binary_accuracy: need two equal, non-empty arrays, got {t.size} and {p.size}")
    return float(np.mean((t > threshold) == (p > threshold)))


def rounded_bins(means, bins: int = BINS) -> np.ndarray:
    """Means rounded half-up to the nearest score, clipped to ``1..bins`` (int)."""
    means = np.asarray(means, dtype=np.float64).reshape(-1)
    return np.clip(np.floor(means + 0.5), 1, bins).astype(np.int64)


def confusion_matrix(true_means, predicted_means, bins: int = BINS) -> np.ndarray:
    """``(bins, bins)`` counts: row = rounded true mean - 1, column = rounded predicted mean - 1."""
    t, p = rounded_bins(true_means, bins), rounded_bins(predicted_means, bins)
    if t.shape != p.shape:
        raise ValueError(f"confusion_matrix: {t.size} true and {p.size} predicted means")
    matrix = np.zeros((bins, bins), dtype=np.int64)
    np.add.at(matrix, (t - 1, p - 1), 1)
    return matrix


def std_of_score_differences(true_means, predicted_means) -> float:
    """Population standard deviation of ``|predicted mean - true mean|`` (the Keras NIMA reproduction's figure)."""
    t = np.asarray(true_means, dtype=np.float64).reshape(-1)
    p = np.asarray(predicted_means, dtype=np.float64).reshape(-1)
    if t.shape != p.shape or t.size == 0:
        raise ValueError(f"std_of_score_differences: need two equal, non-empty arrays, got {t.size} and {p.size}")
    return float(np.std(np.abs(p - t)))


def _safe(function, a, b) -> float | None:
    value = function(a, b)
    return None if not np.isfinite(value) else float(value)


def nima_report(true_histograms, predicted_histograms, threshold: float = 5.0) -> dict:
    """Every NIMA figure for one set of images (see the module docstring); JSON-ready.

    An undefined correlation (e.g. constant predicted standard deviations)
    is ``None``.
    """
    t = _histograms(true_histograms, "nima_report true")
    p = _histograms(predicted_histograms, "nima_report predicted")
    if t.shape != p.shape:
        raise ValueError(f"nima_report: shapes differ, {t.shape} and {p.shape}")
    true_mean, true_std = histogram_moments(t)
    pred_mean, pred_std = histogram_moments(p)
    return {
        "n": int(t.shape[0]),
        "mean": {"lcc": _safe(plcc, pred_mean, true_mean), "srcc": _safe(srcc, pred_mean, true_mean),
                 "krcc": _safe(krcc, pred_mean, true_mean), "rmse": rmse(pred_mean, true_mean)},
        "std": {"lcc": _safe(plcc, pred_std, true_std), "srcc": _safe(srcc, pred_std, true_std),
                "rmse": rmse(pred_std, true_std)},
        "emd_r1": emd(t, p, 1),
        "emd_r2": emd(t, p, 2),
        "binary_accuracy": binary_accuracy(true_mean, pred_mean, threshold),
        "std_of_score_differences": std_of_score_differences(true_mean, pred_mean),
        "threshold": float(threshold),
        "confusion_matrix": confusion_matrix(true_mean, pred_mean, t.shape[1]).tolist(),
    }


def _number(value) -> str:
    return "n/a" if value is None else f"{value:.4f}"


def format_nima_report(report: dict, title: str = "NIMA") -> str:
    """The report as text: figures, then the confusion matrix (rows: true, columns: predicted)."""
    mean, std = report["mean"], report["std"]
    lines = [
        f"{title} ({report['n']} images, scores in bins 1..{len(report['confusion_matrix'])})",
        f"  mean score: LCC {_number(mean['lcc'])}  SRCC {_number(mean['srcc'])}  "
        f"KRCC {_number(mean['krcc'])}  RMSE {_number(mean['rmse'])}",
        f"  std dev:    LCC {_number(std['lcc'])}  SRCC {_number(std['srcc'])}  RMSE {_number(std['rmse'])}",
        f"  EMD r=1 {report['emd_r1']:.4f}  EMD r=2 {report['emd_r2']:.4f}  "
        f"binary accuracy (mean > {report['threshold']:g}) {report['binary_accuracy']:.4f}",
        f"  std of score differences (of |predicted - true mean|) {report['std_of_score_differences']:.4f}",
        "  confusion matrix of rounded means (rows: true 1..10, columns: predicted 1..10):",
    ]
    matrix = np.asarray(report["confusion_matrix"])
    width = max(len(str(int(matrix.max()))), 2)
    for index, row in enumerate(matrix, start=1):
        lines.append(f"  {index:>3} [" + " ".join(f"{int(v):>{width}}" for v in row) + "]")
    return "\n".join(lines)
