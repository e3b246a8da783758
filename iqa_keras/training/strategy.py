"""The tf.distribute strategy a config names (``train.strategy``)."""
from __future__ import annotations

import tensorflow as tf

from ..config import ConfigError


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
        return tf.distribute.MultiWorkerMirroredStrategy()
    raise ConfigError(f"train.strategy: expected default, mirrored or multi_worker, got {name!r}")
