"""The pretrained surrogate ranking network: training data, training, accuracy test, loading.

``ranking_model/train.py`` and ``ranking_model/test.py`` are thin command-line
wrappers around :func:`train_ranking_network` and :func:`evaluate_ranking_network`.
Losses get the shipped network from :func:`load_ranking_network`.
"""
from __future__ import annotations

import math
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
SHIPPED_WEIGHTS = WEIGHTS_DIR / "ranking16.weights.h5"
RANK_WIDTH = 16


# --------------------------------------------------------------------------- data
def average_ranks(scores):
    """Ranks 1..n along the last axis, ties averaged (as ``scipy.stats.rankdata``).

    Vectorised with pairwise comparisons: rank_i = #{j: x_j < x_i} + (#{j: x_j = x_i} + 1) / 2.
    Works on TensorFlow tensors (batch, n).
    """
    import tensorflow as tf

    scores = tf.convert_to_tensor(scores)
    others = scores[..., None, :]
    own = scores[..., :, None]
    less = tf.reduce_sum(tf.cast(others < own, tf.float32), axis=-1)
    equal = tf.reduce_sum(tf.cast(tf.equal(others, own), tf.float32), axis=-1)
    return less + (equal + 1.0) / 2.0


def sample_score_vectors(seed, batch_size: int, tie_fraction: float = 0.25,
                         min_tie_step: float = 0.03, max_tie_step: float = 1.0):
    """A batch of (batch_size, 16) score vectors for training, from a stateless seed.

    Half of the vectors are N(0, 2) per element, half U(-10, 10) (the reference's
    mixture). A ``tie_fraction`` of them is then rounded onto a grid whose step is
    log-uniform in [min_tie_step, max_tie_step] times the vector's standard
    deviation, so that ties of every frequency are seen (the reference had none).
    """
    import tensorflow as tf

    seeds = tf.random.experimental.stateless_split(tf.cast(seed, tf.int64), 5)
    shape = (batch_size, RANK_WIDTH)
    normal = tf.random.stateless_normal(shape, seed=seeds[0], stddev=2.0)
    uniform = tf.random.stateless_uniform(shape, seed=seeds[1], minval=-10.0, maxval=10.0)
    use_normal = tf.random.stateless_uniform((batch_size, 1), seed=seeds[2]) < 0.5
    scores = tf.where(use_normal, normal, uniform)
    if tie_fraction > 0:
        tied = tf.random.stateless_uniform((batch_size, 1), seed=seeds[3]) < tie_fraction
        log_step = tf.random.stateless_uniform(
            (batch_size, 1), seed=seeds[4],
            minval=math.log(min_tie_step), maxval=math.log(max_tie_step))
        step = tf.exp(log_step) * tf.math.reduce_std(scores, axis=-1, keepdims=True)
        scores = tf.where(tied, tf.round(scores / step) * step, scores)
    return scores


def make_rank_dataset(batch_size: int, seed: int, tie_fraction: float = 0.25, batches: int | None = None):
    """tf.data of (scores, average ranks) batches generated on the fly, reproducibly.

    Batch ``i`` depends only on ``(seed, i)``, so a run is repeatable and nothing
    is held in memory. ``batches=None`` is endless.
    """
    import tensorflow as tf

    counter = tf.data.Dataset.range(batches) if batches is not None else tf.data.Dataset.counter()

    def make_batch(index):
        scores = sample_score_vectors(tf.stack([tf.cast(seed, tf.int64), index]), batch_size, tie_fraction)
        return scores, average_ranks(scores)

    return counter.map(make_batch, num_parallel_calls=1).prefetch(2)


# ------------------------------------------------------------------------ loading
def build_ranking_network(standardize_input: bool = True):
    """The untrained 16-wide ranking network (see ``iqa_keras.architectures.ranking``)."""
    from .architectures.ranking import build_ranking16

    return build_ranking16(standardize_input=standardize_input)


def load_ranking_network(weights_path: str | os.PathLike | None = None, trainable: bool = False):
    """The pretrained ranking network: a Keras model mapping (batch, 16) scores to (batch, 16) ranks.

    By default it loads the weights that ship in ``iqa_keras/weights/`` (made by
    ``ranking_model/train.py``; see the README) and freezes the model, which is
    what the surrogate Spearman loss needs. Nothing is downloaded.
    """
    path = Path(weights_path) if weights_path is not None else SHIPPED_WEIGHTS
    if not path.is_file():
        raise FileNotFoundError(
            f"ranking network weights not found: {path} (expected a .weights.h5 written by ranking_model/train.py)"
        )
    model = build_ranking_network()
    model.load_weights(str(path))
    model.trainable = trainable
    return model


# ----------------------------------------------------------------------- training
def save_ranking_weights(model, path: str | os.PathLike) -> None:
    """Writes the network's weights alone (no optimizer state: ~1.9 MB) to ``path``, atomically.

    A compiled Keras 3 model would also store its optimizer's variables, which
    would triple the file that ships in the package.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    bare = build_ranking_network()
    bare.set_weights(model.get_weights())
    handle, temporary = tempfile.mkstemp(suffix=".weights.h5", dir=path.parent)
    os.close(handle)
    try:
        bare.save_weights(temporary, overwrite=True)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)


def train_ranking_network(
    output: str | os.PathLike,
    samples_per_epoch: int = 500_000,
    epochs: int = 12,
    batch_size: int = 256,
    learning_rate: float = 1e-3,
    decay_every: int = 4,
    decay_factor: float = 0.3,
    validation_samples: int = 20_000,
    tie_fraction: float = 0.25,
    seed: int = 0,
    initial_weights: str | os.PathLike | None = None,
    verbose: int = 1,
):
    """Trains the ranking network on vectors generated on the fly; keeps the best validation weights.

    MAE loss on the ranks, Adam, learning rate multiplied by ``decay_factor``
    every ``decay_every`` epochs. The validation set is a fixed draw of
    ``validation_samples`` vectors from the same generator (another seed).
    Weights with the lowest validation MAE are written to ``output``
    (a ``.weights.h5`` file) atomically whenever they improve.
    Returns the Keras history dict.
    """
    import keras

    output = Path(output)
    if not output.name.endswith(".weights.h5"):
        raise ValueError(f"output {output}: expected a file name ending in .weights.h5")
    keras.utils.set_random_seed(seed)
    model = build_ranking_network()
    if initial_weights is not None:
        model.load_weights(str(initial_weights))
    steps = max(1, samples_per_epoch // batch_size)
    train = make_rank_dataset(batch_size, seed=2 * seed, tie_fraction=tie_fraction)
    val_batches = max(1, validation_samples // batch_size)
    validation = make_rank_dataset(batch_size, seed=2 * seed + 1, tie_fraction=tie_fraction,
                                   batches=val_batches).cache()

    def schedule(epoch, _lr):
        return learning_rate * decay_factor ** (epoch // decay_every)

    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss="mae")

    class KeepBest(keras.callbacks.Callback):
        best = math.inf

        def on_epoch_end(self, epoch, logs=None):
            val = (logs or {}).get("val_loss", math.inf)
            if val < self.best:
                self.best = val
                save_ranking_weights(self.model, output)
                if verbose:
                    print(f"epoch {epoch + 1}: val MAE {val:.4f} is the best so far; weights written to {output}",
                          flush=True)

    class Timer(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.start = time.time()

        def on_epoch_end(self, epoch, logs=None):
            if verbose:
                print(f"epoch {epoch + 1}/{epochs}: {time.time() - self.start:.0f} s elapsed, "
                      f"lr {float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate)):.2e}",
                      flush=True)

    history = model.fit(
        train,
        steps_per_epoch=steps,
        epochs=epochs,
        validation_data=validation,
        callbacks=[keras.callbacks.LearningRateScheduler(schedule), KeepBest(), Timer()],
        verbose=2 if verbose and not sys.stdout.isatty() else verbose,
    )
    return history.history


# ------------------------------------------------------------------------ testing
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
