"""The tf.distribute strategy a config names (``train.strategy``), and what each worker may do under it.

``multi_worker`` reads the cluster from ``TF_CONFIG`` (or, without it, from
Slurm's variables inside a Slurm job). It must be created before any other
TensorFlow work: ``train()`` makes the strategy first, then the data.
Training input is sharded by worker (each worker keeps its share of every
global batch, so an epoch sees each example once across workers); only the
chief writes the run folder (:func:`writes_run_folder`).
"""
from __future__ import annotations

import json
import os

import tensorflow as tf

from ..config import ConfigError


def _check_tf_config(text: str) -> None:
    """``TF_CONFIG`` must be JSON with ``cluster`` and ``task`` (type, index) naming a task of the cluster."""
    try:
        value = json.loads(text)
        cluster, task = value["cluster"], value["task"]
        addresses = cluster[task["type"]]
        addresses[int(task["index"])]
    except (ValueError, KeyError, TypeError, IndexError) as error:
        raise ConfigError(
            "TF_CONFIG (environment): expected JSON such as "
            '{"cluster": {"worker": ["host1:port", "host2:port"]}, "task": {"type": "worker", "index": 0}} '
            f"whose task is one of the cluster's; got {text!r} ({type(error).__name__}: {error})"
        ) from None


def _cluster_resolver():
    """TF_CONFIG's cluster, else Slurm's (inside a Slurm job), else None (one worker on its own)."""
    text = os.environ.get("TF_CONFIG")
    if text:
        _check_tf_config(text)
        return tf.distribute.cluster_resolver.TFConfigClusterResolver()
    if "SLURM_JOB_ID" in os.environ and "SLURM_PROCID" in os.environ:
        return tf.distribute.cluster_resolver.SlurmClusterResolver()
    return None


def make_strategy(name: str):
    """``default``, ``mirrored`` (every GPU, else every logical CPU) or ``multi_worker``."""
    if name == "default":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        # Every logical GPU, or every logical CPU when there is none (so that
        # the strategy can be exercised on a CPU split into logical devices).
        devices = tf.config.list_logical_devices("GPU") or tf.config.list_logical_devices("CPU")
        return tf.distribute.MirroredStrategy([d.name for d in devices])
    if name == "multi_worker":
        return tf.distribute.MultiWorkerMirroredStrategy(cluster_resolver=_cluster_resolver())
    raise ConfigError(f"train.strategy: expected default, mirrored or multi_worker, got {name!r}")


def writes_run_folder(strategy) -> bool:
    """True for the one process that writes the run folder: the chief (worker 0) or a single process."""
    return bool(strategy.extended.should_checkpoint)


def _cluster(strategy) -> dict:
    resolver = getattr(strategy, "cluster_resolver", None)
    return {} if resolver is None else resolver.cluster_spec().as_dict()


def worker_count(strategy) -> int:
    """Processes training together (1 unless multi_worker with a cluster)."""
    return max(sum(len(tasks) for tasks in _cluster(strategy).values()), 1)


def worker_label(strategy) -> str:
    """``worker 1 of 2`` under several workers, else an empty string (for messages)."""
    if worker_count(strategy) == 1:
        return ""
    return f"{strategy.cluster_resolver.task_type} {strategy.cluster_resolver.task_id} of {worker_count(strategy)}"


def shard_by_worker(dataset: tf.data.Dataset, strategy) -> tf.data.Dataset:
    """Under several workers: each worker keeps its share of every global batch (``AutoShardPolicy.DATA``).

    The pipeline reads image files from a table, not TFRecord files, so the
    element-wise policy is the one that applies; every worker still decodes
    the whole stream (same shuffle, same crops) and keeps its rows of each
    batch, which is what makes N workers train exactly like one process.
    """
    if worker_count(strategy) > 1:
        options = tf.data.Options()
        options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
        dataset = dataset.with_options(options)
    return dataset


def adapt_to_workers(model, strategy, element_spec) -> None:
    """Works around two places where Keras 3's TensorFlow trainer fails under several workers.

    Applied to ``model`` only, and only when there are several workers.

    * At the start of ``fit`` Keras builds the training state from the first
      distributed batch, which it first reduces with ``strategy.reduce``;
      MultiWorkerMirroredStrategy refuses a nested batch such as
      ``((ref, dist), mos)`` there. The same build runs here from the
      pipeline's ``element_spec`` (shapes and dtypes are all it needs) and
      Keras' own build step, with nothing left to build, is skipped. (Reading
      a batch instead would advance the training pipeline's shuffle, and lose
      the exactness against one process.)
    * After each step Keras averages the replicas' logs with
      ``strategy.reduce("MEAN", value, axis=0)``, which fails for the scalar
      loss; each step's logs are given a batch axis of length 1, which that
      reduction removes again.
    """
    if worker_count(strategy) == 1:
        return
    model._maybe_symbolic_build(data_batch=element_spec)  # noqa: SLF001 - see the docstring
    model._maybe_symbolic_build = lambda iterator=None, data_batch=None: None  # noqa: SLF001

    def with_batch_axis(step):
        def wrapped(data):
            return tf.nest.map_structure(lambda v: tf.reshape(v, [1]) if v.shape.rank == 0 else v, step(data))
        return wrapped

    model.train_step = with_batch_axis(model.train_step)
    model.test_step = with_batch_axis(model.test_step)
