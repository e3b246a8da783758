"""Callbacks of a training run: checkpoints, early stopping, history, plots, resume.

Every callback that carries state across epochs (best value so far, early
stopping patience, ...) exposes ``get_state()`` / ``set_state()`` so that
:class:`RunState` can save it with the weights at each epoch end and a killed
run resumes exactly where its last finished epoch left it.
"""
from __future__ import annotations

import csv
import io
import json
import logging
import math
from pathlib import Path

import keras
import numpy as np

from ..model_io import ModelInfo, save_model
from ..utils import plots
from ..utils.atomic import atomic_path, atomic_write_text

logger = logging.getLogger(__name__)


def _improved(value: float, best: float | None, mode: str) -> bool:
    if value is None or not math.isfinite(value):
        return False
    if best is None:
        return True
    return value > best if mode == "max" else value < best


class NonFiniteLossError(ArithmeticError):
    """The training loss became NaN or infinite; the run folder keeps its last finished epoch."""


class StopOnNonFiniteLoss(keras.callbacks.Callback):
    """Stops training at the first batch whose loss is NaN or infinite, by raising :class:`NonFiniteLossError`.

    Raising (rather than asking Keras to stop at the epoch's end) means no
    epoch-end callback runs on the diverged weights: ``best.keras``,
    ``last.weights.h5``, ``state.json`` and ``history.csv`` keep the last
    finished epoch, so the run resumes from there once the cause (a learning
    rate too high, a bad target) is fixed.
    """

    def __init__(self):
        super().__init__()
        self.epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(float(loss)):
            raise NonFiniteLossError(
                f"training stopped: the loss became {float(loss)} in epoch {self.epoch + 1}, batch {batch + 1}; "
                f"the run folder keeps its state after epoch {self.epoch}, from which the same command resumes "
                "(a lower optimizer.learning_rate or an optimizer.clipnorm, in a new run folder, usually helps)"
            )


class BestModelCheckpoint(keras.callbacks.Callback):
    """Saves ``best.keras`` (with its ModelInfo) whenever ``monitor`` improves."""

    def __init__(self, path, monitor: str, mode: str, info: ModelInfo):
        super().__init__()
        self.path, self.monitor, self.mode, self.info = Path(path), monitor, mode, info
        self.best: float | None = None
        self.best_epoch: int | None = None

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.monitor not in logs:
            raise KeyError(
                f"checkpoint monitor {self.monitor!r} is not in the epoch logs; "
                f"available: {', '.join(sorted(logs))}"
            )
        value = float(logs[self.monitor])
        if _improved(value, self.best, self.mode):
            self.best, self.best_epoch = value, epoch
            save_model(self.model, self.path, self.info)

    def get_state(self):
        return {"best": self.best, "best_epoch": self.best_epoch}

    def set_state(self, state):
        self.best, self.best_epoch = state["best"], state["best_epoch"]


class EarlyStopping(keras.callbacks.Callback):
    """Stops after ``patience`` epochs without improvement of ``monitor`` (0: never)."""

    def __init__(self, monitor: str, mode: str, patience: int):
        super().__init__()
        self.monitor, self.mode, self.patience = monitor, mode, int(patience)
        self.best: float | None = None
        self.wait = 0

    def on_epoch_end(self, epoch, logs=None):
        if self.patience <= 0:
            return
        value = float((logs or {}).get(self.monitor, float("nan")))
        if _improved(value, self.best, self.mode):
            self.best, self.wait = value, 0
        else:
            self.wait += 1
            if self.wait >= self.patience:
                logger.info(f"Early stopping: {self.monitor} has not improved for {self.wait} epochs.")
                self.model.stop_training = True

    def get_state(self):
        return {"best": self.best, "wait": self.wait}

    def set_state(self, state):
        self.best, self.wait = state["best"], state["wait"]


class HistoryCSV(keras.callbacks.Callback):
    """``history.csv`` with one row per finished epoch, each epoch exactly once.

    On (re)start, rows of epochs that will run again are dropped; each epoch's
    row is written by rewriting the whole (small) file atomically.
    """

    def __init__(self, path, initial_epoch: int = 0):
        super().__init__()
        self.path, self.initial_epoch = Path(path), int(initial_epoch)
        self.rows: list[dict] = []

    def on_train_begin(self, logs=None):
        self.rows = [r for r in read_history(self.path) if int(r["epoch"]) < self.initial_epoch]
        self._write()

    def on_epoch_end(self, epoch, logs=None):
        row = {"epoch": epoch}
        for key, value in (logs or {}).items():
            if np.ndim(value) == 0:
                row[key] = float(value)
        self.rows.append(row)
        self._write()

    def _write(self):
        keys: list[str] = []
        for row in self.rows:
            keys += [k for k in row if k not in keys]
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=keys or ["epoch"], lineterminator="\n")
        writer.writeheader()
        writer.writerows(self.rows)
        atomic_write_text(self.path, buffer.getvalue())


def read_history(path) -> list[dict]:
    """Rows of a ``history.csv`` (numbers as floats, epoch as int); [] if absent."""
    path = Path(path)
    if not path.is_file():
        return []
    rows = []
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            parsed = {k: (float(v) if v not in ("", None) else float("nan")) for k, v in row.items()}
            parsed["epoch"] = int(parsed["epoch"])
            rows.append(parsed)
    return rows


class EpochPlots(keras.callbacks.Callback):
    """Draws the predicted-vs-MOS scatter of each epoch and the learning curves."""

    def __init__(self, plots_dir, metrics_callback, history_path, every: int = 1):
        super().__init__()
        self.plots_dir, self.metrics_callback = Path(plots_dir), metrics_callback
        self.history_path, self.every = Path(history_path), max(int(every), 1)

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every == 0 and self.metrics_callback.last_predictions is not None:
            plots.scatter_predictions(
                self.metrics_callback.last_predictions,
                self.metrics_callback.last_targets,
                self.plots_dir / f"scatter_epoch{epoch + 1:03d}.png",
                title=f"epoch {epoch + 1}: SRCC {logs.get('val_srcc', float('nan')):.3f}, "
                f"PLCC {logs.get('val_plcc', float('nan')):.3f}",
                db=getattr(self.metrics_callback, "groups", None),  # one colour per dataset
            )

    def on_train_end(self, logs=None):
        history = read_history(self.history_path)
        if history:
            plots.learning_curves(history, self.plots_dir / "learning_curves.png")


class RunState(keras.callbacks.Callback):
    """Saves what resuming needs at each epoch end: weights, optimizer, callback states.

    ``last.weights.h5`` (model and optimizer variables) and ``state.json`` (the
    number of finished epochs and every stateful callback's state) are each
    written under a temporary name and renamed; ``state.json`` goes last, so it
    never points at an epoch whose weights are not on disk.
    """

    WEIGHTS, STATE = "last.weights.h5", "state.json"

    def __init__(self, run_dir, stateful: dict):
        super().__init__()
        self.run_dir, self.stateful = Path(run_dir), stateful

    def on_epoch_end(self, epoch, logs=None):
        with atomic_path(self.run_dir / self.WEIGHTS) as temporary:
            self.model.save_weights(temporary)
        state = {
            "epochs_done": epoch + 1,
            "callbacks": {name: cb.get_state() for name, cb in self.stateful.items()},
        }
        atomic_write_text(self.run_dir / self.STATE, json.dumps(state, indent=2))

    @classmethod
    def restore(cls, run_dir, model, stateful: dict) -> int:
        """Loads the last state into ``model`` and callbacks; returns epochs done (0 if none)."""
        run_dir = Path(run_dir)
        state_path = run_dir / cls.STATE
        if not state_path.is_file():
            return 0
        state = json.loads(state_path.read_text(encoding="utf-8"))
        if model.optimizer is not None and not model.optimizer.built:
            model.optimizer.build(model.trainable_variables)
        model.load_weights(run_dir / cls.WEIGHTS)
        for name, cb in stateful.items():
            if name in state["callbacks"]:
                cb.set_state(state["callbacks"][name])
        return int(state["epochs_done"])
