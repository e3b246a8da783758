"""Running the experiment: ResNet-18 from scratch, plain MSE or the bias-aware loss, resumable."""
from __future__ import annotations

import json
import logging
import math
import time
from pathlib import Path

import numpy as np

from .figures import draw_figures
from .images import CropSampler, build_split, centre_crops, grid_crops, load_references, predict_images, random_crops
from .options import ExperimentOptions, check_options
from .tables import MOS_RANGE, experiment_tables, reference_biases, true_bias

logger = logging.getLogger(__name__)


def _keras_callbacks():
    """Callback classes (defined lazily so that importing this module loads no TensorFlow)."""
    import keras
    from scipy.stats import spearmanr

    from ...training.bias import pearson_r
    from ...training.callbacks import HistoryCSV, read_history

    class ValidationScores(keras.callbacks.Callback):
        """``val_r``, ``val_srcc``, ``val_rmse`` of the mean-of-crops predictions against the true MOS."""

        def __init__(self, crops, per_image, mos):
            super().__init__()
            self.crops, self.per_image, self.mos = crops, per_image, np.asarray(mos, dtype=float)
            self.last_predictions = None

        def on_epoch_end(self, epoch, logs=None):
            predicted = predict_images(self.model, self.crops, self.per_image)
            self.last_predictions = predicted
            logs["val_r"] = pearson_r(predicted, self.mos)
            logs["val_srcc"] = float(spearmanr(predicted, self.mos)[0]) if np.ptp(predicted) > 0 else 0.0
            logs["val_rmse"] = float(np.sqrt(np.mean((predicted - self.mos) ** 2)))

    class BestSnapshot(keras.callbacks.Callback):
        """Keeps the best epoch by ``val_r``: its model and what its figures need."""

        def __init__(self, out, updater, validation, info, datasets, true_biases):
            super().__init__()
            self.out, self.updater, self.validation, self.info = out, updater, validation, info
            self.datasets = list(datasets)
            self.true_biases = np.array([true_biases[d] for d in self.datasets], dtype=float)
            self.best, self.best_epoch, self.best_logs = None, None, {}

        def on_epoch_end(self, epoch, logs=None):
            value = logs.get("val_r")
            if value is None or not math.isfinite(value) or (self.best is not None and value <= self.best):
                return
            self.best, self.best_epoch = float(value), epoch
            self.best_logs = {k: float(v) for k, v in logs.items() if np.ndim(v) == 0}
            if self.out is not None:
                from ...model_io import save_model

                save_model(self.model, self.out / "best.keras", self.info)
                tmp = self.out / ".best_snapshot.tmp.npz"
                np.savez(
                    tmp, train_predictions=self.updater.last_predictions, train_targets=self.updater.last_targets,
                    train_db_index=self.updater.last_db_index,
                    biases=self.updater.loss.get_biases(len(self.datasets)),
                    val_predictions=self.validation.last_predictions, val_mos=self.validation.mos,
                    epoch=epoch, datasets=np.array(self.datasets), true_biases=self.true_biases,
                )
                tmp.replace(self.out / "best_snapshot.npz")

        def get_state(self):
            return {"best": self.best, "best_epoch": self.best_epoch, "best_logs": self.best_logs}

        def set_state(self, state):
            self.best, self.best_epoch, self.best_logs = state["best"], state["best_epoch"], state["best_logs"]

    class Clock(keras.callbacks.Callback):
        """Training wall time, accumulated over resumed sessions (``elapsed_s`` in the logs)."""

        def __init__(self):
            super().__init__()
            self.elapsed, self.started = 0.0, None

        def on_epoch_begin(self, epoch, logs=None):
            self.started = time.time()

        def on_epoch_end(self, epoch, logs=None):
            self.elapsed += time.time() - self.started
            logs["elapsed_s"] = self.elapsed

        def get_state(self):
            return {"elapsed": self.elapsed}

        def set_state(self, state):
            self.elapsed = float(state["elapsed"])

    class ResultsCSV(HistoryCSV):
        """``results.csv``: one row per epoch, epochs counted from 1, each epoch once."""

        def on_train_begin(self, logs=None):
            self.rows = [r for r in read_history(self.path) if int(r["epoch"]) <= self.initial_epoch]
            self._write()

        def on_epoch_end(self, epoch, logs=None):
            super().on_epoch_end(epoch + 1, logs)

    class Progress(keras.callbacks.Callback):
        """One line per epoch."""

        def __init__(self, epochs, updater):
            super().__init__()
            self.epochs, self.updater = epochs, updater

        def on_epoch_end(self, epoch, logs=None):
            note = " (biases updated)" if self.updater.started else ""
            logger.info(f"epoch {epoch + 1}/{self.epochs}: loss {logs.get('loss', float('nan')):.4f}  "
                        f"train r {logs['train_r']:.3f}  val r {logs['val_r']:.3f}  val RMSE {logs['val_rmse']:.3f}  "
                        f"[{logs['elapsed_s']:.0f} s]{note}")

    return ValidationScores, BestSnapshot, Clock, ResultsCSV, Progress


# --------------------------------------------------------------------------- the run


def _prepare_out(options: ExperimentOptions) -> Path | None:
    from ...training.callbacks import RunState
    from ...utils.atomic import atomic_write_text

    if options.out is None:
        return None
    out = Path(options.out)
    out.mkdir(parents=True, exist_ok=True)
    stored = out / "options.json"
    if (out / RunState.STATE).is_file() and stored.is_file():
        previous = json.loads(stored.read_text(encoding="utf-8"))
        if previous != options.fingerprint():
            changed = sorted(k for k in set(previous) | set(options.fingerprint())
                             if previous.get(k) != options.fingerprint().get(k))
            raise ValueError(f"{out} holds a run with other options ({', '.join(changed)}); "
                             "use another --out, or delete the folder to start over")
    atomic_write_text(stored, json.dumps(options.fingerprint(), indent=2))
    return out


def run_experiment(options: ExperimentOptions) -> dict:
    """Runs (or resumes, when ``out`` holds a killed run) the experiment; returns the summary."""
    import keras

    from ...training.bias import BiasAwareLoss, BiasUpdater
    from ...training.callbacks import EarlyStopping, RunState
    from ...utils.atomic import atomic_write_text
    from ...architectures import build_model

    check_options(options)
    out = _prepare_out(options)
    started = time.time()
    train_table, val_table = experiment_tables(options)
    datasets = sorted(set(train_table["db"].astype(str)))
    if options.bias_order == "first_appearance":  # the reference: the k-th label to appear gets bias k
        true_biases = reference_biases(train_table["db"])
    else:
        true_biases = {label: true_bias(label) for label in datasets}
    references = load_references(list(train_table["src_image"]) + list(val_table["src_image"]), options)
    train = build_split(train_table, references, biased=not options.unbiased, biases=true_biases,
                        blur_mode=options.blur_mode)
    val = build_split(val_table, references, biased=False, blur_mode=options.blur_mode)
    del references
    if options.eval_crop == "center":  # the reference: the centre crop of each image
        per_image, val_crops = 1, centre_crops(val.images, options.crop_size)
    else:
        per_image = options.eval_grid**2
        val_crops = grid_crops(val.images, options.crop_size, options.eval_grid)
    train_crops = grid_crops(train.images, options.crop_size, options.eval_grid) \
        if options.train_predictions == "grid" else None
    db_index = np.array([datasets.index(d) for d in train.db])
    source = "embedded photos" if options.refs is None else options.refs
    if options.verbose:
        logger.info(f"bias-blur: {len(train.images)} training images ({', '.join(datasets)}) and "
                    f"{len(val.images)} validation images from {source}; blurred in {time.time() - started:.1f} s")

    keras.utils.set_random_seed(options.seed)
    model = build_model("resnet18", input_size=options.crop_size, width=options.width,
                        input_normalization=options.input_normalization)
    loss = BiasAwareLoss(bias_fun=options.bias_fun, r_th=options.r_th, anchor_db=options.anchor_db,
                         mse_weight=options.mse_weight, datasets=datasets, mos_range=list(MOS_RANGE),
                         max_slope=options.max_slope, constraint_grid=options.constraint_grid)
    model.compile(optimizer=keras.optimizers.Adam(options.learning_rate), loss=loss)
    info = model.iqa_info
    info.trained_on = list(datasets)
    info.score_range = list(MOS_RANGE)

    predicted_epochs = {"next": 0}  # set to the first epoch below (a resumed run continues the draws)

    def training_predictions(current):
        if train_crops is not None:
            return predict_images(current, train_crops, options.eval_grid**2), train.target, db_index
        # The reference predicted its training set through the augmented loader: one random crop and flip each.
        rng = np.random.default_rng([options.seed, predicted_epochs["next"], 1])
        predicted_epochs["next"] += 1
        crops = random_crops(train.images, options.crop_size, rng)
        return predict_images(current, crops, 1), train.target, db_index

    ValidationScores, BestSnapshot, Clock, ResultsCSV, Progress = _keras_callbacks()
    updater = BiasUpdater(loss, training_predictions, datasets=datasets, verbose=options.verbose)
    validation = ValidationScores(val_crops, per_image, val.mos)
    best = BestSnapshot(out, updater, validation, info, datasets, true_biases)
    stopper = EarlyStopping("val_r", "max", options.patience)
    clock = Clock()
    stateful = {"bias": updater, "best": best, "early_stopping": stopper, "clock": clock}
    initial_epoch = RunState.restore(out, model, stateful) if out is not None else 0
    predicted_epochs["next"] = initial_epoch
    targets = np.stack([train.target, db_index], axis=1)
    sampler = CropSampler(train.images, targets, options.crop_size, options.batch_size,
                          options.crops_per_image, options.seed, first_epoch=initial_epoch,
                          drop_last=options.drop_last)
    callbacks = [validation, updater, best, stopper, clock]
    if options.verbose:
        callbacks.append(Progress(options.epochs, updater))
    if out is not None:
        callbacks += [ResultsCSV(out / "results.csv", initial_epoch), RunState(out, stateful)]
    stopped = stopper.patience > 0 and stopper.wait >= stopper.patience
    if initial_epoch and options.verbose:
        logger.info(f"Resuming after epoch {initial_epoch}; biases started at epoch "
                    f"{'-' if updater.started_epoch is None else updater.started_epoch + 1}")
    if initial_epoch < options.epochs and not stopped:
        model.fit(sampler.dataset(), epochs=options.epochs, initial_epoch=initial_epoch,
                  steps_per_epoch=sampler.steps(), callbacks=callbacks, shuffle=False, verbose=0)

    epochs_run = _epochs_done(out) if out is not None else len(model.history.epoch) if model.history else 0
    summary = {
        "best_val_r": best.best,
        "best_epoch": None if best.best_epoch is None else best.best_epoch + 1,
        "val_rmse_at_best": best.best_logs.get("val_rmse"),
        "val_srcc_at_best": best.best_logs.get("val_srcc"),
        "epochs_run": epochs_run,
        "train_wall_s": round(clock.elapsed, 1),
        "biases_started_epoch": None if updater.started_epoch is None else updater.started_epoch + 1,
        "estimated_biases": {d: list(map(float, b)) for d, b in zip(datasets, loss.get_biases(len(datasets)))},
        "options": options.fingerprint(),
    }
    if out is not None:
        figures = draw_figures(out, options.unbiased)
        summary["figures"] = [str(p) for p in figures]
        atomic_write_text(out / "summary.json", json.dumps(summary, indent=2))
    if options.verbose:
        logger.info(f"Best validation r {summary['best_val_r']:.4f} at epoch {summary['best_epoch']} of "
                    f"{epochs_run} (RMSE {summary['val_rmse_at_best']:.3f}); training took {clock.elapsed:.0f} s"
                    + (f"; results in {out}" if out is not None else ""))
    return summary


def _epochs_done(out: Path) -> int:
    from ...training.callbacks import RunState

    state = out / RunState.STATE
    return int(json.loads(state.read_text(encoding="utf-8"))["epochs_done"]) if state.is_file() else 0
