"""Config -> datasets, model, loss, optimizer, callbacks -> ``model.fit`` -> run folder.

A run folder holds: ``config.toml`` (the config as run), ``history.csv``,
``best.keras`` (best epoch by the monitor, with its ModelInfo), the resume
state (``last.weights.h5`` + ``state.json``), ``metrics.json`` and ``plots/``.
Starting the same command again resumes from the last finished epoch.

Everything that can be wrong with the input is found before the run folder
is touched: the folder must be writable (and not a file), a folder holding
another config's run is refused, every image is decoded once, the model is
built. Only then are ``config.toml`` and the stale temporary files of a
killed save dealt with, so a run stopped by a config or data error leaves
no folder behind. A loss that turns NaN or infinite stops the run at once,
with the folder still at its last finished epoch.

Under ``train.strategy = "multi_worker"`` every worker runs ``train()`` with
the same config and run folder: the strategy is made before anything else,
all workers resume from the run folder's state, only the chief writes it
(the others write their copies to a temporary folder, removed at the end),
and only the chief evaluates the best model and writes ``metrics.json``.

What differs between a score model, a histogram (NIMA) model and a
bias-aware run lives in the task object (:mod:`.tasks`); several
``[[data.datasets]]`` each keep their own score standardisation, and
``history.csv`` gets ``val_<label>_srcc/plcc/krcc/rmse`` per dataset.
"""
from __future__ import annotations

import json
import logging
import shutil
import tempfile
import time
from pathlib import Path

import keras

from ..architectures import build_model
from ..config import Config, ConfigError, config_from_run_text
from ..metrics import EpochMetrics
from ..model_io import load_model
from ..registry import LOSSES
from ..utils.atomic import atomic_write_text, remove_stale_temporaries
from ..utils.paths import check_output_dir
from ..utils.precision import set_precision
from .callbacks import BestModelCheckpoint, EarlyStopping, EpochPlots, HistoryCSV, RunState, StopOnNonFiniteLoss
from .data import make_pipelines, prepare_data
from .optimizers import make_optimizer, schedule_callbacks
from .strategy import adapt_to_workers, make_strategy, shard_by_worker, worker_label, writes_run_folder
from .tasks import task_for

logger = logging.getLogger(__name__)


def _initial_weights(model: keras.Model, path_text: str, source: str) -> None:
    path = Path(path_text)
    if path.is_dir():
        path = path / "best.keras"
    if not path.is_file():
        raise ConfigError(f"{source}: train.initial_weights: no model file at {path}")
    donor = load_model(path)
    try:
        model.set_weights(donor.get_weights())
    except ValueError as error:
        raise ConfigError(
            f"{source}: train.initial_weights: {path} does not fit {model.name}: {error}"
        ) from None
    logger.info(f"Initial weights from {path}")


def build_compiled_model(config: Config, strategy=None) -> keras.Model:
    """Model, loss and optimizer of the config, built under ``strategy``'s scope."""
    strategy = strategy or make_strategy(config.train.strategy)
    with strategy.scope():
        model = build_model(
            config.model.architecture, input_size=config.model.input_size, **config.model.hyper_parameters
        )
        if config.train.initial_weights:
            _initial_weights(model, config.train.initial_weights, config.source)
        if config.train.precision != "float32":
            set_precision(model, config.train.precision)
        loss = LOSSES.get(config.loss.name)(**config.loss.options)
        model.compile(optimizer=make_optimizer(config, model), loss=loss)
    return model


def _same_config(stored_text: str, config: Config, stored_path: Path) -> bool:
    """True when a run folder's ``config.toml`` describes the same run (``--set`` order and comments aside)."""
    if stored_text == config.text:
        return True
    try:
        return config_from_run_text(stored_text, str(stored_path)).to_dict() == config.to_dict()
    except ConfigError:
        return False


def _check_run_folder(run_dir: Path, config: Config, writer: bool = True) -> bool:
    """A run folder belongs to one config: resuming with another is an error. True when there is a run to resume.

    ``writer``: this process writes the folder (a worker other than the chief only reads it).
    """
    if writer:
        check_output_dir(run_dir)
    stored = run_dir / "config.toml"
    if stored.is_file() and (run_dir / RunState.STATE).is_file():
        if not _same_config(stored.read_text(encoding="utf-8"), config, stored):
            raise ConfigError(
                f"run folder {run_dir} holds a run of a different config ({stored}); "
                "use another --out, or delete the folder to start over"
            )
        return True
    return False


def _open_run_folder(run_dir: Path, config: Config, resuming: bool) -> None:
    """Creates the folder, clears what a killed save left, and records the config of a new run."""
    run_dir.mkdir(parents=True, exist_ok=True)
    for folder in (run_dir, run_dir / "plots"):
        for stale in remove_stale_temporaries(folder):
            logger.info(f"Removed {stale}, left by an interrupted save")
    if not resuming:
        atomic_write_text(run_dir / "config.toml", config.text)


def train(config: Config, run_dir: str | Path | None = None) -> Path:
    """Runs (or resumes) the training the config describes; returns the run folder."""
    # First: a multi-worker strategy must exist before any other TensorFlow work (tf.data included).
    strategy = make_strategy(config.train.strategy)
    writer = writes_run_folder(strategy)
    worker = worker_label(strategy)
    run_dir = Path(run_dir or config.run_dir())
    resuming = _check_run_folder(run_dir, config, writer)
    keras.utils.set_random_seed(config.train.seed)

    task = task_for(config)
    data = task.prepare(prepare_data(config))
    pipelines = make_pipelines(config, data)
    counts = ", ".join(f"{role} {len(df)}" for role, df in data.records.items())
    logger.info(f"Run folder {run_dir}; pairs: {counts}" + (f" ({worker})" if worker else ""))

    # A worker other than the chief writes its callbacks' files to a temporary folder, never to run_dir.
    out_dir = run_dir if writer else Path(tempfile.mkdtemp(prefix="iqa-keras-worker-"))
    try:
        model = build_compiled_model(config, strategy)
        info = model.iqa_info = task.model_info(model, data)
        metrics_cb = EpochMetrics(pipelines["val"], prefix="val", **task.epoch_metrics_options(data))
        checkpoint = BestModelCheckpoint(out_dir / "best.keras", config.train.monitor, config.train.monitor_mode,
                                         info)
        stopper = EarlyStopping(config.train.monitor, config.train.monitor_mode,
                                config.train.early_stopping_patience)
        train_pipeline, task_callbacks = task.fit_inputs(model, data, pipelines)
        adapt_to_workers(model, strategy, train_pipeline.element_spec)
        stateful = {"checkpoint": checkpoint, "early_stopping": stopper, **task_callbacks}
        initial_epoch = RunState.restore(run_dir, model, stateful)  # every worker resumes from the chief's state
        if writer:
            _open_run_folder(run_dir, config, resuming)
        callbacks = [
            StopOnNonFiniteLoss(),
            *schedule_callbacks(config, model),
            *task_callbacks.values(),  # before the callbacks that log and save their state
            metrics_cb,
            checkpoint,
            stopper,
            EpochPlots(out_dir / "plots", metrics_cb, out_dir / "history.csv", config.output.plot_every),
            HistoryCSV(out_dir / "history.csv", initial_epoch),
            RunState(out_dir, stateful),
        ]
        if config.train.tensorboard:  # last, so that its epoch logs hold every metric the callbacks above added
            callbacks.append(keras.callbacks.TensorBoard(log_dir=str(out_dir / "tensorboard"), write_graph=False))
        stopped = stopper.patience > 0 and stopper.wait >= stopper.patience
        if initial_epoch:
            logger.info(f"Resuming after epoch {initial_epoch} of {config.train.epochs}")
        if initial_epoch < config.train.epochs and not stopped:
            started = time.time()
            model.fit(
                shard_by_worker(train_pipeline, strategy),
                epochs=config.train.epochs,
                initial_epoch=initial_epoch,
                steps_per_epoch=config.train.steps_per_epoch,
                # The NTIRE 2021 reference kept the epoch of lowest validation loss: "val_loss" asks Keras for it.
                validation_data=(shard_by_worker(pipelines["val"], strategy)
                                 if config.train.monitor == "val_loss" else None),
                callbacks=callbacks,
                shuffle=False,  # the pipeline shuffles, seeded
                verbose=config.train.verbose,
            )
            logger.info(f"Training took {time.time() - started:.0f} s")
        else:
            logger.info("Run already complete; re-evaluating the best model")
    finally:
        if not writer:
            shutil.rmtree(out_dir, ignore_errors=True)
    if not writer:
        logger.info(f"{worker}: done; the chief writes {run_dir}")
        return run_dir

    results = task.evaluate(load_model(run_dir / "best.keras"), data, pipelines, run_dir)
    results["best_epoch"] = None if checkpoint.best_epoch is None else checkpoint.best_epoch + 1
    results["monitor"] = {config.train.monitor: checkpoint.best}
    results["score_norm"] = {k: list(v) for k, v in data.score_norm.items()}
    atomic_write_text(run_dir / "metrics.json", json.dumps(results, indent=2))
    val = results["val"]
    logger.info(
        f"Best epoch {results['best_epoch']}: val SRCC {val['srcc']:.4f}, PLCC {val['plcc']:.4f}, "
        f"KRCC {val['krcc']:.4f}, RMSE {val['rmse']:.4f} -> {run_dir / 'best.keras'}"
    )
    return run_dir
