"""What ``iqa-keras train`` does differently for NIMA models (called from ``training.py``).

For ``nima`` and ``nima_regression`` (no-reference heads) the record tables
lose their references, so the pipelines yield single images. For ``nima``
(histogram output) each record also gets its 10-bin target histogram
(``hist_1..hist_10``, built by :mod:`iqa_keras.nima_targets` from votes or from
mean and std mapped onto bins 1..10 with the dataset's explicit score range),
the epoch metrics are computed on the predicted mean score ``sum_i i p_i``
(mapped back to the first dataset's MOS scale), the saved ModelInfo maps that
mean back to the MOS scale, and the final evaluation adds the NIMA report
(``nima`` in ``metrics.json``, printed) and the distribution figure.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from .nima_targets import (
    HISTOGRAM_COLUMNS,
    ScoreScale,
    dataset_scale,
    histogram_moments,
    histogram_targets,
    resolve_mode,
)

HISTOGRAM_ARCHITECTURES = ("nima",)
IMAGE_ONLY_ARCHITECTURES = ("nima", "nima_regression")


@dataclasses.dataclass
class NimaSetup:
    """The NIMA side of one training run."""

    histogram: bool  # True for the 10-bin head, False for the regression variant
    scales: dict  # db label -> ScoreScale
    modes: dict  # db label -> target mode actually used
    threshold: float = 5.0

    @property
    def anchor(self) -> ScoreScale | None:
        return next(iter(self.scales.values()), None)

    def to_score(self, values) -> np.ndarray:
        """Histograms (N, 10) -> mean scores in bin units."""
        return histogram_moments(np.asarray(values, dtype=np.float64))[0]

    def metrics_kwargs(self) -> dict:
        """Keyword arguments of ``EpochMetrics``: score = histogram mean, on the MOS scale of a single dataset."""
        if not self.histogram:
            return {}
        kwargs = {"to_score": self.to_score}
        if len(self.scales) == 1:
            kwargs["denormalize"] = self.anchor.from_bins
        return kwargs

    def update_info(self, info) -> None:
        """ModelInfo of a NIMA model: ``denormalize(mean score in bins)`` gives the first dataset's MOS."""
        if not self.histogram:
            info.kind = "nr"
            return
        scale = self.anchor
        info.kind = "nima"
        info.score_mean, info.score_std = scale.denormalize_coefficients
        info.higher_is_better = scale.higher_is_better
        info.score_range = [scale.low, scale.high]

    def evaluate(self, model, data, pipelines: dict, run_dir) -> dict:
        """SRCC/PLCC/KRCC/RMSE of the mean scores (dataset scales) plus the NIMA report, per role.

        Also draws ``plots/nima_distributions_<role>.png`` and prints the report.
        """
        from . import plots
        from .metrics import correlation_report
        from .nima_metrics import format_nima_report, nima_report

        results = {}
        for role in ("val", "test"):
            if role not in pipelines:
                continue
            records = data.records[role]
            predicted = np.asarray(model.predict(pipelines[role], verbose=0), dtype=np.float64)[: len(records)]
            true = records[list(HISTOGRAM_COLUMNS)].to_numpy(dtype=np.float64)
            db = records["db"].astype(str).to_numpy()
            pred_mean, pred_std = histogram_moments(predicted)
            true_mean, true_std = histogram_moments(true)
            scaled_pred = np.array([self.scales[d].from_bins(m) for d, m in zip(db, pred_mean)])
            mos = records["mos"].to_numpy(dtype=np.float64)
            single = len(self.scales) == 1
            overall = correlation_report(scaled_pred if single else pred_mean, mos if single else true_mean, db=db)
            report = nima_report(true, predicted, self.threshold)
            results[role] = {k: overall[k] for k in ("srcc", "plcc", "krcc", "rmse")}
            results[role]["n"] = int(len(records))
            results[role]["per_db"] = {
                label: {k: correlation_report(scaled_pred[db == label], mos[db == label])[k]
                        for k in ("srcc", "plcc", "krcc", "rmse")}
                for label in sorted(set(db)) if (db == label).sum() >= 3
            }
            results[role]["nima"] = report
            results[role]["nima"]["targets"] = dict(self.modes)
            plots.nima_distributions(pred_mean, true_mean, pred_std, true_std,
                                     Path(run_dir) / "plots" / f"nima_distributions_{role}.png",
                                     title=f"{role}: predicted vs true histograms")
            print(format_nima_report(report, title=f"NIMA {role}"))
        return results


HISTOGRAM_LOSSES = ("nima", "emd", "chi_square", "moments_mse")


def _check_histogram_loss(config) -> None:
    """A NIMA histogram model trains with a histogram loss; no ``[loss]`` section means EMD r = 2."""
    import tomllib

    if config.loss.name in HISTOGRAM_LOSSES:
        return
    try:
        has_loss_section = "loss" in tomllib.loads(config.text or "")
    except tomllib.TOMLDecodeError:
        has_loss_section = True
    if not has_loss_section:
        config.loss.name, config.loss.options = "nima", {}
        print("NIMA: no [loss] section; training with the \"nima\" loss (EMD, r = 2)")
        return
    raise ValueError(
        f"{config.source}: loss.name: {config.loss.name!r} compares one score per image; the NIMA histogram "
        f"head needs one of {', '.join(HISTOGRAM_LOSSES)} (\"nima\" = EMD r = 2 + optional regularisers)"
    )


def prepare_nima(config, data) -> NimaSetup | None:
    """Turns the prepared records into NIMA's (no references, target histograms); None for other models."""
    architecture = config.model.architecture
    if architecture not in IMAGE_ONLY_ARCHITECTURES:
        return None
    for role, records in data.records.items():
        data.records[role] = records.assign(ref="")
    data.kind = "nr"
    histogram = architecture in HISTOGRAM_ARCHITECTURES
    section = getattr(config, "nima", None)
    mode = getattr(section, "targets", "auto")
    ranges = dict(getattr(section, "ranges", {}) or {})
    std_scale = float(getattr(section, "std_scale", 1.0))
    threshold = float(getattr(section, "threshold", 5.0))
    scales, modes = {}, {}
    for index, dataset in enumerate(config.data.datasets):
        label = dataset.label
        override = ranges.get(label, ranges.get(dataset.name))
        try:
            scales[label] = dataset_scale(dataset.name, override)
        except ValueError as error:
            raise ValueError(f"{config.source}: data.datasets[{index}] ({label}): {error}") from None
    unknown = sorted(set(ranges) - set(scales) - {d.name for d in config.data.datasets})
    if unknown:
        raise ValueError(f"{config.source}: nima.ranges: {unknown} name no dataset of the config")
    if histogram:
        _check_histogram_loss(config)
        for role, records in data.records.items():
            columns = np.zeros((len(records), len(HISTOGRAM_COLUMNS)))
            for label, scale in scales.items():
                mask = (records["db"].astype(str) == label).to_numpy()
                if mask.any():
                    part = records[mask]
                    modes[label] = resolve_mode(part, mode)
                    try:
                        columns[mask] = histogram_targets(part, scale, modes[label], std_scale)
                    except ValueError as error:
                        raise ValueError(f"{config.source}: nima.targets ({label}, {role}): {error}") from None
            data.records[role] = data.records[role].assign(**{c: columns[:, i] for i, c in enumerate(HISTOGRAM_COLUMNS)})
        data.target_columns = list(HISTOGRAM_COLUMNS)
        summary = ", ".join(f"{label}: {modes.get(label, '?')} on [{s.low:g}, {s.high:g}] -> bins 1..10"
                            for label, s in scales.items())
        print(f"NIMA targets: {summary}")
    return NimaSetup(histogram=histogram, scales=scales, modes=modes, threshold=threshold)
