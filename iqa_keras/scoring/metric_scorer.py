"""Scoring pairs with a classical full-reference metric, through the same pairing, outputs and progress as models.

``MetricScorer`` has the part of ``Scorer``'s interface that the scoring
commands use (``score_pair``, ``score_pairs``, ``model_names``,
``augmentations``, ``higher_is_better``), so ``iqa-keras score --metric gmsd``
reads pairs, folders and CSV lists exactly as model scoring does. Metrics see
the whole images at their stored resolution (each metric applies its own
conventions, e.g. SSIM's automatic downsampling); there is no test-time
augmentation.
"""
from __future__ import annotations

import numpy as np

from ..data.images import read_image
from ..registry import FR_METRICS


class MetricScorer:
    """One classical metric (``psnr``, ``ssim``, ``ms_ssim``, ``gmsd``, ``vif``, ...) as a pair scorer."""

    def __init__(self, name: str):
        from ..metrics import classical  # noqa: F401  (registers the metrics)

        self.metric = FR_METRICS.get(str(name).lower())
        self.name = str(name).lower()
        self.model_names = [f"metric:{self.name}"]
        self.augmentations = []
        self.higher_is_better = bool(self.metric.higher_is_better)

    def score_pair(self, reference, distorted) -> float:
        from ..metrics.classical import compute_metric

        ref, dist = read_image(reference), read_image(distorted)
        if ref.shape != dist.shape:
            raise ValueError(f"{self.name}: {reference} is {ref.shape[1]} x {ref.shape[0]} but {distorted} is "
                             f"{dist.shape[1]} x {dist.shape[0]}; a full-reference metric needs equal sizes")
        return float(np.asarray(compute_metric(self.name, ref, dist)).reshape(-1)[0])

    def score_pairs(self, pairs, progress=None) -> list[float]:
        scores = []
        for index, (reference, distorted) in enumerate(pairs, start=1):
            scores.append(self.score_pair(reference, distorted))
            if progress is not None:
                progress(index)
        return scores
