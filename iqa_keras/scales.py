"""Score scales: the one place that says how a dataset's scores become targets and back.

Three views of the same numbers, all defined here and used everywhere else:

* **Standardisation** (score models): each dataset's MOS is standardised
  with its own ``(mean, std)``, usually those of its training split
  (:func:`fit_standardisation`, :func:`score_norms`, :func:`normalise_scores`);
  a saved model undoes it with :func:`denormalise` (``ModelInfo`` keeps the
  pair).
* **Range and direction** of each dataset's scale (:data:`DATASET_SCALES`):
  TID2013's MOS runs 0..9 and higher is better, LIVE's DMOS 0..100 and lower
  is better. The dataset readers take their direction and range from this
  table; nothing repeats it.
* **Histogram bins** (NIMA): a scale maps linearly onto the scores 1..10
  (:class:`ScoreScale`, best quality always in bin 10), and
  :func:`histogram_moments` gives the mean and standard deviation of a
  histogram over those bins (NumPy arrays or Keras tensors alike).
"""
from __future__ import annotations

import dataclasses
from typing import Mapping

import numpy as np

BINS = 10


# ----------------------------------------------------------------- standardisation
def fit_standardisation(mos) -> tuple[float, float]:
    """``(mean, std)`` of a set of scores (population std; 1 when the scores are constant)."""
    mos = np.asarray(mos, dtype=np.float64).reshape(-1)
    std = float(mos.std())
    return float(mos.mean()), std if std > 0 else 1.0


def score_norms(records) -> dict:
    """``{db: (mean, std)}`` of the ``mos`` column of each dataset (``db``) of a record table."""
    return {str(db): fit_standardisation(part["mos"]) for db, part in records.groupby("db", sort=True)}


def normalise_scores(mos, db=None, score_norm=None) -> np.ndarray:
    """Standardised scores ``(mos - mean) / std`` as float64.

    ``score_norm``: None (scores unchanged), one ``(mean, std)`` for every
    score, or ``{db: (mean, std)}`` with ``db`` giving each score's dataset
    (every dataset must have an entry). A negative std flips the direction.
    """
    mos = np.asarray(mos, dtype=np.float64).reshape(-1)
    if score_norm is None:
        return mos.copy()
    if isinstance(score_norm, Mapping):
        if db is None:
            raise ValueError("score_norm per dataset needs the dataset label of every score")
        labels = np.asarray(db).astype(str).reshape(-1)
        norms = {str(k): v for k, v in score_norm.items()}
        unknown = sorted(set(labels.tolist()) - set(norms))
        if unknown:
            raise ValueError(f"score_norm has no (mean, std) for dataset(s) {unknown}; it has {sorted(norms)}")
        mean = np.array([float(norms[label][0]) for label in labels])
        std = np.array([float(norms[label][1]) for label in labels])
    else:
        mean = np.full_like(mos, float(score_norm[0]))
        std = np.full_like(mos, float(score_norm[1]))
    if np.any(std == 0):
        raise ValueError("score_norm: a standard deviation is 0")
    return (mos - mean) / std


def denormalise(values, mean: float, std: float):
    """Network outputs -> scores on the dataset's scale: ``values * std + mean``."""
    return values * std + mean


# ----------------------------------------------------------------- ranges and bins
@dataclasses.dataclass(frozen=True)
class ScoreScale:
    """A dataset's score range ``[low, high]`` and direction, and its linear map onto bins ``1..bins``.

    ``higher_is_better=False`` (a DMOS) flips the map so that bin ``bins`` is
    always the best quality. Standard deviations scale by ``(bins - 1) / (high - low)``.
    ``approximate``: the range is nominal (PIPAL's Elo scores have no fixed
    ends), so histogram targets need the range given explicitly.
    """

    low: float
    high: float
    higher_is_better: bool = True
    bins: int = BINS
    approximate: bool = False

    def __post_init__(self):
        if not self.high > self.low:
            raise ValueError(f"ScoreScale: high ({self.high}) must exceed low ({self.low})")

    @property
    def range(self) -> tuple[float, float]:
        return (self.low, self.high)

    @property
    def step(self) -> float:
        """Score units per bin."""
        return (self.high - self.low) / (self.bins - 1)

    def to_bins(self, mos):
        mos = np.asarray(mos, dtype=np.float64)
        offset = (mos - self.low) if self.higher_is_better else (self.high - mos)
        return 1.0 + offset / self.step

    def from_bins(self, bin_mean):
        offset = (np.asarray(bin_mean, dtype=np.float64) - 1.0) * self.step
        return self.low + offset if self.higher_is_better else self.high - offset

    def std_to_bins(self, std):
        return np.asarray(std, dtype=np.float64) / self.step

    def std_from_bins(self, std):
        return np.asarray(std, dtype=np.float64) * self.step

    @property
    def denormalize_coefficients(self) -> tuple[float, float]:
        """``(score_mean, score_std)`` of ModelInfo so that ``bin_mean * std + mean`` is the score."""
        sign = 1.0 if self.higher_is_better else -1.0
        return float(self.from_bins(0.0)), sign * self.step

    def to_list(self) -> list:
        return [self.low, self.high, self.higher_is_better]


# Each dataset's score range and direction, written out (not derived from
# data) so that nothing can shift a scale silently.
DATASET_SCALES = {
    "tid2008": ScoreScale(0.0, 9.0),  # MOS 0..9 -> bins 1..10 (bin = MOS + 1)
    "tid2013": ScoreScale(0.0, 9.0),
    "kadid10k": ScoreScale(1.0, 5.0),  # its "dmos" column is a 1-5 MOS
    "pipal": ScoreScale(1000.0, 1900.0, approximate=True),  # Elo scores
    "pieapp": ScoreScale(0.0, 1.0),  # probability of preference
    "live": ScoreScale(0.0, 100.0, higher_is_better=False),  # DMOS
    "csiq": ScoreScale(0.0, 1.0, higher_is_better=False),  # DMOS
    "koniq10k": ScoreScale(1.0, 5.0),
    "ava": ScoreScale(1.0, 10.0),  # mean vote 1..10: the bins are the scores themselves
    "embedded": ScoreScale(1.0, 5.0),
}


def dataset_scale(name: str, override=None) -> ScoreScale:
    """The exact scale of dataset ``name``; ``override`` is ``[low, high]`` or ``[low, high, higher_is_better]``."""
    if override is not None:
        values = list(override)
        if len(values) not in (2, 3):
            raise ValueError(f"score range of {name!r}: expected [low, high] or [low, high, higher_is_better], "
                             f"got {override!r}")
        return ScoreScale(float(values[0]), float(values[1]), bool(values[2]) if len(values) == 3 else True)
    scale = DATASET_SCALES.get(str(name).lower())
    if scale is None or scale.approximate:
        exact = sorted(k for k, v in DATASET_SCALES.items() if not v.approximate)
        reason = "its range is only nominal" if scale is not None else "it has no known score range"
        raise ValueError(
            f"no exact score range for dataset {name!r} ({reason}; known: {', '.join(exact)}); "
            f"set it in the config, e.g. [nima] ranges = {{ {name} = [low, high] }}"
        )
    return scale


def histogram_moments(histograms, epsilon: float = 0.0):
    """Mean and standard deviation of the score over bins ``1..K`` of ``(..., K)`` histograms.

    Histograms are normalised to sum 1 first. NumPy input gives float64 NumPy
    arrays; a Keras/backend tensor gives tensors (differentiable, as the
    losses need). ``epsilon`` is added to the sum and inside the square root,
    which keeps the gradient finite for one-hot histograms.
    """
    if isinstance(histograms, (np.ndarray, list, tuple)):
        p = np.asarray(histograms, dtype=np.float64)
        p = p / (p.sum(axis=-1, keepdims=True) + epsilon)
        scores = np.arange(1, p.shape[-1] + 1, dtype=np.float64)
        mean = p @ scores
        variance = np.sum(p * np.square(scores - mean[..., None]), axis=-1)
        return mean, np.sqrt(np.maximum(variance, 0.0) + epsilon)
    from keras import ops

    p = histograms / (ops.sum(histograms, axis=-1, keepdims=True) + epsilon)
    scores = ops.cast(ops.arange(1, p.shape[-1] + 1), p.dtype)
    mean = ops.sum(p * scores, axis=-1)
    variance = ops.sum(p * ops.square(scores - mean[..., None]), axis=-1)
    return mean, ops.sqrt(ops.maximum(variance, 0.0) + epsilon)
