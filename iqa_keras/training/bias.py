"""Per-dataset bias estimation for the bias-aware loss (Mittag et al., QoMEX 2021).

Several training datasets rate the same quality differently: dataset d's MOS
is a monotone function f_d of the "true" quality the network should predict.
The bias-aware loss compares ``f_d(prediction)`` with dataset d's MOS, so the
network is not pulled towards each dataset's private scale. The f_d are
polynomials ``b0 + b1 x + b2 x^2 + b3 x^3``, identity at first, re-estimated
from the network's predictions at the end of every epoch by
:class:`BiasUpdater` once the training set's Pearson r passes ``r_th``.

How the dataset index travels (the design every caller follows):

- Only the *training* pipeline that ``model.fit`` consumes carries it: its
  targets are ``y_true`` of shape (B, 2) = ``[mos, db_index]`` (``mos`` on the
  scale the network is trained on, ``db_index`` the dataset's position, as a
  float). :func:`make_indexed_dataset` builds such a pipeline from a record
  table with any ``make_dataset`` options.
- The coefficients live in a non-trainable variable of the loss,
  ``BiasAwareLoss.biases`` (max_datasets, 4), which the callback assigns; the
  compiled training step reads it, so no retracing happens when it changes.
- Everything else (validation pipelines, ``EpochMetrics``, checkpoints, the
  saved model) sees plain MOS (B, 1): with a one-column ``y_true`` the loss is
  the plain squared error, and the model itself never contains the biases
  (predictions stay on the anchor dataset's scale).
- :class:`BiasUpdater` has ``get_state()``/``set_state()``, so a run's
  ``RunState`` saves the estimated biases in ``state.json`` at every epoch end
  and a resumed run starts from them.

A caution measured on the paper's synthetic experiment (``iqa-keras
experiment bias-blur``): when each image content belongs to one dataset, the
loss with ``mse_weight = 0`` does not change when a non-anchor dataset's
predictions are rescaled and its f_d rescaled the other way, so the two can
drift together from epoch to epoch (slopes of 5-20 where the truth is
0.3-0.5) until training collapses; ``mse_weight`` > 0 pulls the scale back
and ``max_slope`` stops the runaway (0.5 and 3 there: better than plain MSE
on most random seeds of both image sources; docs/bias-aware.md).
``r_th`` must be below the Pearson r that a good predictor of the *true*
quality can reach against the biased MOS (0.70 on the paper's table),
otherwise the first estimate waits for the network to memorise offsets.
"""
from __future__ import annotations

import logging
import math
from typing import Callable, Sequence

import keras
import numpy as np

from ..data import make_dataset as default_make_dataset
from ..losses.bias_aware import BIAS_FUNCTIONS, BiasAwareLoss, resolve_anchor
from ..metrics.callback import predict_batch
from ..metrics.correlation import pearson_r as _pearson_r
from ..scales import normalise_scores

logger = logging.getLogger(__name__)

IDENTITY = np.array([0.0, 1.0, 0.0, 0.0])
MONOTONE_SAMPLES = 101  # points of the domain where f'(x) >= 0 is enforced


# --------------------------------------------------------------------------- fitting


def evaluate_polynomial(coefficients, x) -> np.ndarray:
    """``b0 + b1 x + b2 x^2 + b3 x^3`` for coefficients ``[b0, b1, b2, b3]``."""
    b0, b1, b2, b3 = np.asarray(coefficients, dtype=float)
    x = np.asarray(x, dtype=float)
    return b0 + x * (b1 + x * (b2 + x * b3))


def fit_first_order(x, y, max_slope: float | None = None) -> np.ndarray:
    """Least-squares ``y ~ b0 + b1 x`` subject to ``0 <= b1 <= max_slope``; returns [b0, b1, 0, 0].

    The unconstrained line when its slope is non-negative, otherwise the best
    constant (``b1 = 0``, ``b0 = mean(y)``): with one inequality constraint the
    optimum is either interior or on that boundary.
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    _check_pairs(x, y, 2)
    dx = x - x.mean()
    denominator = float(dx @ dx)
    slope = float(dx @ (y - y.mean())) / denominator if denominator > 0 else 0.0
    # With b0 free the profile objective in b1 is a convex parabola: the box optimum is the clipped slope.
    slope = min(max(slope, 0.0), math.inf if max_slope is None else float(max_slope))
    return np.array([y.mean() - slope * x.mean(), slope, 0.0, 0.0])


def fit_third_order(x, y, domain: Sequence[float] | None = None, max_slope: float | None = None,
                    constraint_points=None) -> np.ndarray:
    """Least-squares cubic ``y ~ f(x)`` with ``0 <= f'(x) (<= max_slope)`` on ``domain``.

    ``domain`` = [low, high] is the MOS range on which f must be increasing,
    widened to cover every ``x`` (the predictions f is applied to: a cubic
    that decreases below the MOS range turned the gradient of the low
    predictions round and training collapsed, measured on bias-blur with
    LIVE); by default the range covered by ``x`` and ``y`` together. The constraint
    is enforced at 101 evenly spaced points, as the reference does, by SLSQP
    (a quadratic objective under linear constraints). The fit runs in the
    variable ``u = (x - centre) / half_width`` for conditioning and is mapped
    back to coefficients in ``x``.

    ``constraint_points``: the x values where ``f' >= 0`` is enforced instead
    (the reference implementation's ``arange(1, 5, 0.001)``); ``domain`` and
    the widening are then not used.
    """
    from scipy.optimize import minimize

    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    _check_pairs(x, y, 4)
    if constraint_points is not None:
        points = np.asarray(constraint_points, dtype=float).reshape(-1)
        if points.size < 2 or not np.all(np.isfinite(points)):
            raise ValueError("bias fit: constraint_points must be at least 2 finite values")
        low, high = float(points.min()), float(points.max())
    else:
        low, high = _domain(x, y, domain)
    centre, half = (low + high) / 2.0, max((high - low) / 2.0, 1e-12)
    u = (x - centre) / half
    design = np.vander(u, 4, increasing=True)  # columns 1, u, u^2, u^3
    grid = np.linspace(-1.0, 1.0, MONOTONE_SAMPLES) if constraint_points is None else (points - centre) / half
    slope_rows = np.stack([np.zeros_like(grid), np.ones_like(grid), 2 * grid, 3 * grid**2], axis=1)
    # f'(x) = g'(u) / half: the upper bound on f' is max_slope * half on g'.
    upper = math.inf if max_slope is None else float(max_slope) * half

    def feasible(a, tolerance: float = 0.0) -> bool:
        """``0 <= g' <= upper`` at the constraint points (SLSQP's answer: up to round-off)."""
        slopes = slope_rows @ a
        return slopes.min() >= -tolerance and slopes.max() <= upper + tolerance

    unconstrained = np.linalg.lstsq(design, y, rcond=None)[0]
    if feasible(unconstrained):
        coefficients_u = unconstrained
    else:
        scale = max(float(np.mean(y**2)), 1e-12)

        def objective(a):
            residual = design @ a - y
            return float(residual @ residual) / (len(y) * scale)

        def gradient(a):
            return 2.0 * design.T @ (design @ a - y) / (len(y) * scale)

        line = fit_first_order(u, y, upper)  # a feasible start
        constraints = [{"type": "ineq", "fun": lambda a: slope_rows @ a, "jac": lambda a: slope_rows}]
        if max_slope is not None:
            constraints.append({"type": "ineq", "fun": lambda a: upper - slope_rows @ a, "jac": lambda a: -slope_rows})
        result = minimize(objective, line, jac=gradient, method="SLSQP", constraints=constraints,
                          options={"maxiter": 500, "ftol": 1e-12})
        better = objective(result.x) <= objective(line) and feasible(result.x, tolerance=1e-6)
        coefficients_u = result.x if better else line
    # f(x) = g((x - centre) / half): compose the polynomials.
    composed = np.polynomial.Polynomial(coefficients_u)(np.polynomial.Polynomial([-centre / half, 1.0 / half]))
    out = np.zeros(4)
    out[: len(composed.coef)] = composed.coef[:4]
    return out


def fit_bias(x, y, bias_fun: str, domain: Sequence[float] | None = None, max_slope: float | None = None,
             constraint_points=None) -> np.ndarray:
    """The bias polynomial of one dataset (``first_order`` or ``third_order``)."""
    if bias_fun == "first_order":
        return fit_first_order(x, y, max_slope)
    if bias_fun == "third_order":
        return fit_third_order(x, y, domain, max_slope, constraint_points)
    raise ValueError(f"bias_fun: expected one of {', '.join(BIAS_FUNCTIONS)}, got {bias_fun!r}")


def estimate_biases(
    predictions,
    targets,
    db_index,
    num_datasets: int,
    bias_fun: str = "first_order",
    anchor_index: int | None = None,
    previous=None,
    domain: Sequence[float] | None = None,
    max_slope: float | None = None,
    constraint_points=None,
) -> np.ndarray:
    """Fits f_d per dataset from predictions over a whole training set.

    Returns (num_datasets, 4) coefficients. The anchor dataset keeps the
    identity; a dataset with too few samples (or none) keeps its ``previous``
    coefficients (identity when there are none).
    """
    predictions = np.ravel(np.asarray(predictions, dtype=float))
    targets = np.ravel(np.asarray(targets, dtype=float))
    db_index = np.ravel(np.asarray(db_index)).astype(int)
    if not (len(predictions) == len(targets) == len(db_index)):
        raise ValueError(
            f"estimate_biases: predictions ({len(predictions)}), targets ({len(targets)}) and "
            f"db_index ({len(db_index)}) must have the same length"
        )
    biases = np.tile(IDENTITY, (num_datasets, 1)) if previous is None else np.array(previous, dtype=float)
    needed = 2 if bias_fun == "first_order" else 4
    for d in range(num_datasets):
        if d == anchor_index:
            biases[d] = IDENTITY
            continue
        mask = db_index == d
        if mask.sum() >= needed:
            biases[d] = fit_bias(predictions[mask], targets[mask], bias_fun, domain, max_slope, constraint_points)
    return biases


def constraint_points(grid) -> np.ndarray | None:
    """``arange(low, high, step)`` of a [low, high, step] constraint grid; None for None."""
    if grid is None:
        return None
    low, high, step = (float(v) for v in grid)
    return np.arange(low, high, step)


def pearson_r(a, b) -> float:
    """Pearson's r of two 1-D arrays, 0 (not nan) when either is constant: r below any ``r_th``."""
    r = float(_pearson_r(np.ravel(np.asarray(a, dtype=float)), np.ravel(np.asarray(b, dtype=float))))
    return 0.0 if math.isnan(r) else r


def _check_pairs(x, y, needed: int) -> None:
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError(f"bias fit: x and y must be 1-D arrays of the same length, got {x.shape} and {y.shape}")
    if len(x) < needed:
        raise ValueError(f"bias fit: need at least {needed} samples, got {len(x)}")
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        raise ValueError("bias fit: predictions and targets must be finite")


def _domain(x, y, domain) -> tuple[float, float]:
    if domain is not None:
        low, high = (float(v) for v in domain)
        if not high > low:
            raise ValueError(f"bias fit: domain must be [low, high] with high > low, got {list(domain)}")
        return min(low, float(x.min())), max(high, float(x.max()))
    return float(min(x.min(), y.min())), float(max(x.max(), y.max()))


# --------------------------------------------------------------------------- the callback


class BiasUpdater(keras.callbacks.Callback):
    """Re-estimates the loss's biases at each epoch end, from the whole training set.

    ``data`` is either a finite, deterministic ``tf.data.Dataset`` of
    ``(inputs, y)`` with ``y`` = (B, 2) ``[mos, db_index]`` (the training
    records without shuffling or augmentation), or a callable
    ``data(model) -> (predictions, mos, db_index)`` (1-D arrays).

    At each epoch end it predicts, computes Pearson r between predictions and
    MOS over all datasets, and, the first time r > ``r_th`` and at every
    epoch after that, fits every dataset's f (the anchor keeps the identity)
    and assigns them to ``loss.biases``. Logs ``train_r``, ``train_r_<db>``
    and ``bias_<db>_b0..b3`` so ``history.csv`` records them. Put it before
    the checkpoint/state callbacks so they save the updated biases.
    """

    def __init__(
        self,
        loss: BiasAwareLoss,
        data,
        datasets: Sequence[str] | None = None,
        r_th: float | None = None,
        bias_fun: str | None = None,
        anchor_db=None,
        mos_range: Sequence[float] | None = None,
        verbose: int = 1,
    ):
        super().__init__()
        self.loss = loss
        self.data = data
        self.datasets = list(datasets) if datasets is not None else loss.datasets
        self.r_th = loss.r_th if r_th is None else float(r_th)
        self.bias_fun = bias_fun or loss.bias_fun
        anchor = loss.anchor_db if anchor_db is None else anchor_db
        self.anchor_index = resolve_anchor(anchor, self.datasets)
        self.mos_range = mos_range if mos_range is not None else loss.mos_range
        self.verbose = verbose
        self.num_datasets = len(self.datasets) if self.datasets else None
        self.started_epoch: int | None = None  # first epoch whose end updated the biases
        self.last_predictions = self.last_targets = self.last_db_index = None

    @property
    def started(self) -> bool:
        return self.started_epoch is not None

    def labels(self, count: int) -> list[str]:
        return [str(v) for v in (self.datasets or range(count))]

    def predict_training_set(self):
        """(predictions, mos, db_index) over the whole training set."""
        if callable(self.data):
            predictions, mos, db_index = self.data(self.model)
        else:
            parts = []
            for batch in self.data:
                inputs, y = batch[0], batch[1]
                parts.append((np.ravel(predict_batch(self.model, inputs)), np.asarray(y)))
            predictions = np.concatenate([p for p, _ in parts])
            targets = np.concatenate([y for _, y in parts]).reshape(-1, 2)
            mos, db_index = targets[:, 0], targets[:, 1]
        return (np.ravel(np.asarray(predictions, dtype=float)), np.ravel(np.asarray(mos, dtype=float)),
                np.rint(np.ravel(db_index)).astype(int))

    def on_epoch_end(self, epoch, logs=None):
        logs = logs if logs is not None else {}
        predictions, mos, db_index = self.predict_training_set()
        self.last_predictions, self.last_targets, self.last_db_index = predictions, mos, db_index
        count = self.num_datasets or int(db_index.max()) + 1
        labels = self.labels(count)
        r = pearson_r(predictions, mos)
        logs["train_r"] = r
        for d, label in enumerate(labels):
            mask = db_index == d
            logs[f"train_r_{label}"] = pearson_r(predictions[mask], mos[mask]) if mask.sum() > 1 else float("nan")
        if not self.started and r > self.r_th:
            self.started_epoch = epoch
            if self.verbose:
                logger.info(f"BiasUpdater: training r {r:.3f} > r_th {self.r_th:g} at epoch {epoch + 1}: "
                            "estimating the dataset biases from now on")
        if self.started:
            biases = estimate_biases(
                predictions, mos, db_index, count, self.bias_fun, self.anchor_index,
                previous=self.loss.get_biases(count), domain=self.mos_range,
                max_slope=getattr(self.loss, "max_slope", None),
                constraint_points=constraint_points(getattr(self.loss, "constraint_grid", None)),
            )
            self.loss.set_biases(biases)
            recompile_steps(self.model)
        biases = self.loss.get_biases(count)
        for d, label in enumerate(labels):
            for k in range(4):
                logs[f"bias_{label}_b{k}"] = float(biases[d, k])

    def get_state(self) -> dict:
        return {"started_epoch": self.started_epoch, "biases": self.loss.get_biases().tolist()}

    def set_state(self, state: dict) -> None:
        self.started_epoch = state.get("started_epoch")
        self.loss.set_biases(state["biases"])
        if self.model is not None:
            recompile_steps(self.model)


def recompile_steps(model) -> None:
    """Makes new loss biases count in the next training and evaluation steps.

    TensorFlow's step functions read the biases variable at every call. JAX's
    compiled steps carry only the model's and optimizer's variables as state;
    the loss's biases are compiled in as constants, so the steps are rebuilt
    (one compilation per bias update, i.e. per epoch).
    """
    if keras.backend.backend() == "tensorflow" or model is None:
        return
    model.make_train_function(force=True)
    model.make_test_function(force=True)


# --------------------------------------------------------------------------- pipelines


def indexed_targets(records, datasets: Sequence[str], score_norm=None) -> np.ndarray:
    """(N, 2) float32 ``[normalised mos, db_index]`` of a record table's rows.

    ``score_norm``: None, (mean, std) or {db: (mean, std)}, as for ``make_dataset``.
    """
    labels = [str(label) for label in datasets]
    db = records["db"].astype(str).to_numpy()
    unknown = sorted(set(db) - set(labels))
    if unknown:
        raise ValueError(f"bias-aware targets: records have db label(s) {unknown} not in datasets {labels}")
    try:
        normalised = normalise_scores(records["mos"], db, score_norm)
    except ValueError as error:
        raise ValueError(f"bias-aware targets: {error}") from None
    index = np.array([labels.index(label) for label in db], dtype=float)
    return np.stack([normalised, index], axis=1).astype(np.float32)


def make_indexed_dataset(records, datasets: Sequence[str], score_norm=None, make_dataset: Callable | None = None,
                         **make_dataset_kwargs):
    """A ``make_dataset`` pipeline whose targets are (B, 2) ``[normalised mos, db_index]``.

    ``records``: a record table with ``mos`` and ``db`` columns; ``datasets``:
    the labels in index order; ``score_norm`` as for ``make_dataset``. Every
    other ``make_dataset`` option (shuffle, augment, crop, seed, training, ...)
    passes through, so the pairs are exactly those of the plain pipeline; the
    two target columns travel as ``target_columns``.
    """
    make_dataset = make_dataset or default_make_dataset
    targets = indexed_targets(records, datasets, score_norm)
    table = records.reset_index(drop=True).assign(_bias_mos=targets[:, 0], _bias_db_index=targets[:, 1])
    return make_dataset(table, target_columns=["_bias_mos", "_bias_db_index"], **make_dataset_kwargs)


def training_pipelines(loss: BiasAwareLoss, records, datasets: Sequence[str], score_norm, input_size: int,
                       batch_size: int, *, augment=None, seed: int = 0, repeat: bool = False,
                       make_dataset: Callable | None = None, verbose: int = 1):
    """What a training run needs for the bias-aware loss: (train pipeline, BiasUpdater).

    The train pipeline is shuffled and augmented like the plain one (and
    repeated for a fixed ``steps_per_epoch``) but carries ``[mos, db_index]``
    targets; the updater predicts the training records centre-cropped,
    unshuffled and unaugmented at each epoch end. ``records`` is the training
    table (column ``db`` holds the labels).
    """
    common = dict(datasets=datasets, score_norm=score_norm, make_dataset=make_dataset,
                  input_size=input_size, batch_size=batch_size, seed=seed, crop=None)
    train = make_indexed_dataset(records, shuffle=True, augment=augment, training=True, repeat=repeat, **common)
    plain = make_indexed_dataset(records, shuffle=False, augment=None, training=False, **common)
    return train, BiasUpdater(loss, plain, datasets=datasets, verbose=verbose)
