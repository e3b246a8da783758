"""What differs between kinds of training run, as a small object that ``train()`` calls.

* :class:`ScoreTask`: one score per sample (full-reference pairs, or single
  images for a no-reference head): standardised MOS targets, figures on each
  dataset's MOS scale.
* :class:`HistogramTask`: a NIMA head predicting a 10-bin score histogram:
  the records lose their references and get target histograms (from votes,
  or from mean and std mapped onto bins 1..10 with each dataset's score
  range), the epoch figures use the histogram's mean score, and the final
  evaluation adds the NIMA report and the distribution figure.
* :class:`BiasAwareTask`: several datasets with the bias-aware loss: the
  training pipeline carries ``[mos, db_index]`` targets and a ``BiasUpdater``
  refits each dataset's bias at every epoch end (its state is saved with the run).

``task_for(config)`` picks the task from the validated config.
"""
from __future__ import annotations

import dataclasses
import logging

import keras
import numpy as np

from ..config import Config, ConfigError
from ..data.histogram_targets import HISTOGRAM_COLUMNS, histogram_targets, resolve_mode
from ..model_io import ModelInfo
from ..scales import histogram_moments
from .bias import training_pipelines
from .data import PreparedData, pipeline_options
from .evaluate import evaluate_histograms, evaluate_scores

logger = logging.getLogger(__name__)


class ScoreTask:
    """Networks that output one score per sample, trained on standardised MOS."""

    def __init__(self, config: Config):
        self.config = config

    def prepare(self, data: PreparedData) -> PreparedData:
        """The task's records and targets; image-only heads lose the references."""
        if not self.config.image_only:
            return data
        records = {role: table.assign(ref="") for role, table in data.records.items()}
        return dataclasses.replace(data, records=records, kind="nr")

    def model_info(self, model: keras.Model, data: PreparedData) -> ModelInfo:
        """What the saved model says about itself: score scale of the anchor dataset, direction, config."""
        anchor = self.config.anchor_label()
        info = dataclasses.replace(model.iqa_info)
        info.score_mean, info.score_std = data.score_norm[anchor]
        info.higher_is_better = data.higher_is_better[anchor]
        info.trained_on = list(self.config.labels)
        info.config_text = self.config.text
        info.pooling = self.config.output.pooling
        if self.config.image_only:
            info.kind = "nr"
        return info

    def _group_mappings(self, data: PreparedData) -> dict:
        """Each dataset's map from network outputs back to its own MOS scale."""
        return {label: (lambda v, m=mean, s=std: v * s + m) for label, (mean, std) in data.score_norm.items()}

    def epoch_metrics_options(self, data: PreparedData) -> dict:
        """``EpochMetrics`` options: figures on the MOS scale, per dataset when there are several.

        One dataset: outputs and targets are de-normalised to its MOS scale,
        so the per-epoch ``val_rmse`` is in the same units as ``metrics.json``.
        The validation pipeline is unshuffled, so its samples come in the order
        of ``data.records["val"]``; each dataset's RMSE is on its own scale.
        """
        if len(self.config.data.datasets) < 2:
            return {"denormalize": self._group_mappings(data)[self.config.labels[0]]}
        return {"groups": data.records["val"]["db"].astype(str).to_numpy(),
                "group_denormalize": self._group_mappings(data)}

    def fit_inputs(self, model: keras.Model, data: PreparedData, pipelines: dict) -> tuple:
        """``(training pipeline, {state name: extra callback})``; the callbacks run before the metrics."""
        return pipelines["train"], {}

    def evaluate(self, model: keras.Model, data: PreparedData, pipelines: dict, run_dir) -> dict:
        return evaluate_scores(model, data, pipelines)


class HistogramTask(ScoreTask):
    """NIMA heads: 10-bin histogram targets; figures on the histogram's mean score."""

    def __init__(self, config: Config):
        super().__init__(config)
        self.scales = config.histogram_scales()
        self.modes: dict = {}

    def prepare(self, data: PreparedData) -> PreparedData:
        data = super().prepare(data)
        nima = self.config.nima
        records = {}
        for role, table in data.records.items():
            columns = np.zeros((len(table), len(HISTOGRAM_COLUMNS)))
            for label, scale in self.scales.items():
                mask = (table["db"].astype(str) == label).to_numpy()
                if mask.any():
                    part = table[mask]
                    self.modes[label] = resolve_mode(part, nima.targets)
                    try:
                        columns[mask] = histogram_targets(part, scale, self.modes[label], nima.std_scale)
                    except ValueError as error:
                        raise ConfigError(f"{self.config.source}: nima.targets ({label}, {role}): {error}") from None
            records[role] = table.assign(**{c: columns[:, i] for i, c in enumerate(HISTOGRAM_COLUMNS)})
        summary = ", ".join(f"{label}: {self.modes.get(label, '?')} on [{s.low:g}, {s.high:g}] -> bins 1..10"
                            for label, s in self.scales.items())
        logger.info(f"NIMA targets: {summary}")
        return dataclasses.replace(data, records=records, target_columns=list(HISTOGRAM_COLUMNS))

    @property
    def anchor_scale(self):
        return next(iter(self.scales.values()))

    @staticmethod
    def to_score(values) -> np.ndarray:
        """Histograms (N, 10) -> mean scores in bin units."""
        return histogram_moments(np.asarray(values, dtype=np.float64))[0]

    def model_info(self, model: keras.Model, data: PreparedData) -> ModelInfo:
        """``denormalize(mean score in bins)`` gives the first dataset's score."""
        info = super().model_info(model, data)
        scale = self.anchor_scale
        info.kind = "nima"
        info.score_mean, info.score_std = scale.denormalize_coefficients
        info.higher_is_better = scale.higher_is_better
        info.score_range = [scale.low, scale.high]
        return info

    def _group_mappings(self, data: PreparedData) -> dict:
        return {label: scale.from_bins for label, scale in self.scales.items()}

    def epoch_metrics_options(self, data: PreparedData) -> dict:
        options = {"to_score": self.to_score, **super().epoch_metrics_options(data)}
        if len(self.scales) == 1:
            options["denormalize"] = self.anchor_scale.from_bins
        return options

    def evaluate(self, model: keras.Model, data: PreparedData, pipelines: dict, run_dir) -> dict:
        return evaluate_histograms(model, data, pipelines, self.scales, self.modes, self.config.nima.threshold,
                                   run_dir)


class BiasAwareTask(ScoreTask):
    """The bias-aware loss: ``[mos, db_index]`` training targets, biases refitted at each epoch end."""

    def fit_inputs(self, model: keras.Model, data: PreparedData, pipelines: dict) -> tuple:
        """The indexed training pipeline (same shuffle, augmentation, crops) and the ``BiasUpdater``.

        The updater's state (the estimated biases) is saved in ``state.json``
        under "bias" and restored on resume.
        """
        options = pipeline_options(self.config, "train")
        train, updater = training_pipelines(
            model.loss, data.records["train"], self.config.labels, data.score_norm,
            options["input_size"], options["batch_size"], augment=options["augment"], seed=options["seed"],
            repeat=options["repeat"],
        )
        return train, {"bias": updater}


TASKS = {"score": ScoreTask, "histogram": HistogramTask, "bias_aware": BiasAwareTask}


def task_for(config: Config) -> ScoreTask:
    """The task object of a validated config (``config.task``)."""
    return TASKS[config.task](config)
