"""Training runs: the run folder, resume after SIGKILL, metrics against scipy."""
import csv
import json
import os
import signal
import subprocess
import sys
import time

import pytest
from scipy import stats

from helpers import tiny_config, write_config


def _config(tmp_path, cache, epochs, augment=False):
    return write_config(tmp_path / "tiny.toml", tiny_config(
        cache, augment={"enabled": augment}, optimizer={"decay_every": 2}, train={"epochs": epochs, "verbose": 2}))


def _train_command(config, run_dir):
    return [sys.executable, "-m", "iqa_keras.cli", "train", str(config), "--out", str(run_dir)]


def _history_epochs(run_dir):
    with open(run_dir / "history.csv", newline="") as handle:
        return [int(float(row["epoch"])) for row in csv.DictReader(handle)]


def test_run_folder_contents_and_metrics(tmp_path, embedded_cache):
    from iqa_keras import load_model
    from iqa_keras.config import load_config
    from iqa_keras.training import make_pipelines, prepare_data, train

    config = load_config(_config(tmp_path, embedded_cache, epochs=2, augment=True))
    run_dir = train(config, tmp_path / "run")
    for name in ("config.toml", "history.csv", "best.keras", "last.weights.h5", "state.json", "metrics.json",
                 "plots/learning_curves.png", "plots/scatter_epoch001.png", "plots/scatter_epoch002.png"):
        assert (run_dir / name).is_file(), name
    assert _history_epochs(run_dir) == [0, 1]
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert set(metrics["val"]) >= {"srcc", "plcc", "krcc", "rmse", "per_db"}

    # The reported SRCC is scipy's over the whole validation set, on the MOS scale.
    model = load_model(run_dir / "best.keras")
    data = prepare_data(config)
    pipelines = make_pipelines(config, data)
    predicted = model.predict(pipelines["val"], verbose=0).ravel()
    mos = data.records["val"]["mos"].to_numpy()
    assert len(predicted) == len(mos)
    assert metrics["val"]["srcc"] == pytest.approx(stats.spearmanr(predicted, mos)[0], abs=1e-6)
    info = model.iqa_info
    assert info.trained_on == ["embedded"] and info.higher_is_better
    train_mos = data.records["train"]["mos"].to_numpy()  # standardised by the training split (numpy, ddof 0)
    assert (info.score_mean, info.score_std) == pytest.approx((train_mos.mean(), train_mos.std()))
    # No content of the validation split was trained on.
    assert not set(data.records["train"]["content"]) & set(data.records["val"]["content"])


def test_sigkill_after_first_epoch_then_resume_runs_each_epoch_once(tmp_path, embedded_cache):
    config = _config(tmp_path, embedded_cache, epochs=4)
    run_dir = tmp_path / "run"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(_train_command(config, run_dir), stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, env=env)
    state = run_dir / "state.json"
    deadline = time.time() + 240
    while time.time() < deadline and process.poll() is None:
        if state.is_file() and json.loads(state.read_text())["epochs_done"] >= 1:
            break
        time.sleep(0.05)
    assert process.poll() is None, "training ended before it could be killed:\n" + process.stdout.read().decode()[-2000:]
    process.send_signal(signal.SIGKILL)
    process.wait()
    done = json.loads(state.read_text())["epochs_done"]
    assert 1 <= done < 4

    result = subprocess.run(_train_command(config, run_dir), capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert f"Resuming after epoch {done} of 4" in result.stderr  # messages go to stderr, results to stdout
    assert _history_epochs(run_dir) == [0, 1, 2, 3]
    assert json.loads(state.read_text())["epochs_done"] == 4


def test_resuming_with_another_config_is_refused(tmp_path, embedded_cache):
    from iqa_keras.config import ConfigError, load_config
    from iqa_keras.training import train

    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "config.toml").write_text("[train]\nepochs = 1\n")
    (run_dir / "state.json").write_text('{"epochs_done": 1, "callbacks": {}}')
    with pytest.raises(ConfigError, match="different config"):
        train(load_config(_config(tmp_path, embedded_cache, epochs=1)), run_dir)


def test_tensorboard_logs_hold_every_epoch_and_the_validation_figures(tmp_path, embedded_cache):
    import tensorflow as tf

    from iqa_keras.config import load_config
    from iqa_keras.training import train

    config = write_config(tmp_path / "tb.toml", tiny_config(embedded_cache, train={"epochs": 2, "tensorboard": True}))
    run_dir = train(load_config(config), tmp_path / "run")
    logged = {}  # (writer folder, tag) -> {epoch: value}
    for events in (run_dir / "tensorboard").rglob("events.out.tfevents.*"):
        for event in tf.compat.v1.train.summary_iterator(str(events)):
            for value in event.summary.value:
                number = float(tf.make_ndarray(value.tensor)) if value.HasField("tensor") else value.simple_value
                logged.setdefault((events.parent.name, value.tag), {})[event.step] = number
    with open(run_dir / "history.csv", newline="") as handle:
        history = list(csv.DictReader(handle))
    assert logged[("train", "epoch_loss")].keys() == {0, 1}
    # Keras files val_* figures under the validation writer without the prefix.
    for epoch, row in enumerate(history):
        assert logged[("validation", "epoch_srcc")][epoch] == pytest.approx(float(row["val_srcc"]), abs=1e-6)
        assert logged[("validation", "epoch_main")][epoch] == pytest.approx(float(row["val_main"]), abs=1e-6)
