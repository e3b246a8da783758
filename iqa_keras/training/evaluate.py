"""The final figures of a run: the best model on the validation (and test) records, overall and per dataset."""
from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from ..data.histogram_targets import HISTOGRAM_COLUMNS
from ..metrics import correlation_report, format_nima_report, nima_report
from ..scales import histogram_moments
from ..utils import plots

logger = logging.getLogger(__name__)

FIGURES = ("srcc", "plcc", "krcc", "rmse")
EVALUATED_ROLES = ("val", "test")


def _figures(report: dict) -> dict:
    return {k: report[k] for k in FIGURES}


def evaluate_scores(model, data, pipelines: dict) -> dict:
    """SRCC/PLCC/KRCC/RMSE of a score model on val (and test), overall and per dataset.

    Per-dataset figures are on that dataset's own MOS scale; the overall RMSE
    is on the dataset's scale when the role holds one dataset (label),
    otherwise on the standardised scale the network was trained on.
    """
    results = {}
    for role in EVALUATED_ROLES:
        if role not in pipelines:
            continue
        records = data.records[role]
        predicted = np.ravel(model.predict(pipelines[role], verbose=0))[: len(records)]
        db = records["db"].to_numpy()
        means = np.array([data.score_norm[d][0] for d in db])
        stds = np.array([data.score_norm[d][1] for d in db])
        mos = records["mos"].to_numpy(dtype=float)
        single = len(set(db)) == 1
        overall = correlation_report(
            predicted * stds + means if single else predicted,
            mos if single else (mos - means) / stds,
        )
        results[role] = {**_figures(overall), "n": int(len(records))}
        results[role]["per_db"] = {
            label: _figures(correlation_report(predicted[mask] * stds[mask] + means[mask], mos[mask]))
            for label in sorted(set(db)) if (mask := db == label).sum() >= 3
        }
    return results


def evaluate_histograms(model, data, pipelines: dict, scales: dict, modes: dict, threshold: float,
                        run_dir) -> dict:
    """Figures of a histogram (NIMA) model: the mean score's correlations plus the NIMA report, per role.

    Correlations are on each dataset's own scale (one dataset) or in bins
    (several); also draws ``plots/nima_distributions_<role>.png`` and prints the report.
    """
    results = {}
    for role in EVALUATED_ROLES:
        if role not in pipelines:
            continue
        records = data.records[role]
        predicted = np.asarray(model.predict(pipelines[role], verbose=0), dtype=np.float64)[: len(records)]
        true = records[list(HISTOGRAM_COLUMNS)].to_numpy(dtype=np.float64)
        db = records["db"].astype(str).to_numpy()
        pred_mean, pred_std = histogram_moments(predicted)
        true_mean, true_std = histogram_moments(true)
        scaled_pred = np.array([scales[d].from_bins(m) for d, m in zip(db, pred_mean)])
        mos = records["mos"].to_numpy(dtype=np.float64)
        single = len(scales) == 1
        overall = correlation_report(scaled_pred if single else pred_mean, mos if single else true_mean, db=db)
        report = nima_report(true, predicted, threshold)
        results[role] = {**_figures(overall), "n": int(len(records))}
        results[role]["per_db"] = {
            label: _figures(correlation_report(scaled_pred[mask], mos[mask]))
            for label in sorted(set(db)) if (mask := db == label).sum() >= 3
        }
        results[role]["nima"] = {**report, "targets": dict(modes)}
        plots.nima_distributions(pred_mean, true_mean, pred_std, true_std,
                                 Path(run_dir) / "plots" / f"nima_distributions_{role}.png",
                                 title=f"{role}: predicted vs true histograms")
        logger.info(format_nima_report(report, title=f"NIMA {role}"))
    return results
