"""Training data of the ranking network: random score vectors and their exact average ranks, made on the fly."""
from __future__ import annotations

import math

from .weights import RANK_WIDTH


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
