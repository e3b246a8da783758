"""Training the ranking network on score vectors generated on the fly; keeps the best validation weights."""
from __future__ import annotations

import logging
import math
import os
import sys
import time
from pathlib import Path

from .data import make_rank_dataset
from .weights import build_ranking_network, save_ranking_weights

logger = logging.getLogger(__name__)


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
                    logger.info(f"epoch {epoch + 1}: val MAE {val:.4f} is the best so far; weights written to {output}")

    class Timer(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.start = time.time()

        def on_epoch_end(self, epoch, logs=None):
            if verbose:
                logger.info(f"epoch {epoch + 1}/{epochs}: {time.time() - self.start:.0f} s elapsed, "
                            f"lr {float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate)):.2e}")

    history = model.fit(
        train,
        steps_per_epoch=steps,
        epochs=epochs,
        validation_data=validation,
        callbacks=[keras.callbacks.LearningRateScheduler(schedule), KeepBest(), Timer()],
        verbose=2 if verbose and not sys.stdout.isatty() else verbose,
    )
    return history.history
