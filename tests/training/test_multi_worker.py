"""train.strategy = "multi_worker": two worker processes on 127.0.0.1 train like one process.

Both tests are slow (each starts several TensorFlow processes; minutes on a
busy 2-core machine): ``python -m pytest -m slow tests/training/test_multi_worker.py``.

The reference for the two-worker run is a single-process run of the same
config (same seed, same global batch of 16). Both runs are short (2 epochs
of 3 steps, Adam at 1e-4): float rounding differs between one batch of 16
and two of 8, and over many steps the ranking network of the Spearman term
amplifies it (nearly tied predictions swap ranks), as it does between one
device and ``mirrored`` (see docs/distributed.md, "How exact it is").
"""
import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import h5py
import numpy as np
import pytest

from helpers import tiny_config, write_config

REPO = Path(__file__).resolve().parents[2]
RUN_FILES = {"config.toml", "history.csv", "best.keras", "last.weights.h5", "state.json", "metrics.json", "plots"}


def _env(tmp_path):
    """Workers import this checkout's package and make their temporary folders under tmp_path."""
    scratch = tmp_path / "worker_tmp"
    scratch.mkdir(exist_ok=True)
    return {**os.environ, "PYTHONPATH": str(REPO), "PYTHONUNBUFFERED": "1", "TMPDIR": str(scratch),
            "TF_CPP_MIN_LOG_LEVEL": "3"}


def _train(config, run_dir, env, *extra, timeout=600):
    command = [sys.executable, "-m", "iqa_keras.cli", "train", str(config), "--out", str(run_dir), *extra]
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=timeout)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result.stdout + result.stderr  # the chief's messages on stderr, the other worker's relayed to stdout


def _layer_arrays(path):
    arrays = {}
    with h5py.File(path, "r") as handle:
        handle.visititems(lambda name, item: arrays.__setitem__(name, np.array(item))
                          if isinstance(item, h5py.Dataset) and name.startswith("layers/") else None)
    return arrays


def _history_epochs(run_dir):
    with open(run_dir / "history.csv", newline="") as handle:
        return [int(float(row["epoch"])) for row in csv.DictReader(handle)]


def _config(tmp_path, cache, name, **train):
    return write_config(tmp_path / f"{name}.toml", tiny_config(
        cache, model={"dense_num": 4}, loss={"name": "fr_loss", "spearman_factor": 0.1},
        optimizer={"learning_rate": 1e-4}, train={"epochs": 2, "steps_per_epoch": 3, "verbose": 0, **train}))


@pytest.mark.slow
def test_two_workers_match_one_process(tmp_path, embedded_cache):
    env = _env(tmp_path)
    single = _config(tmp_path, embedded_cache, "single")
    _train(single, tmp_path / "single", env)
    # --workers 2: the launcher sets train.strategy = "multi_worker" and a TF_CONFIG on 127.0.0.1 per worker.
    started = time.time()
    output = _train(single, tmp_path / "two", env, "--workers", "2", timeout=900)
    print(f"two workers: {time.time() - started:.0f} s")
    assert "(worker 0 of 2)" in output and "[worker 1] Run folder" in output

    assert {p.name for p in (tmp_path / "two").iterdir()} == RUN_FILES  # the chief's files, nothing else
    assert not any((tmp_path / "worker_tmp").iterdir())  # the other worker's temporary folder is gone
    assert _history_epochs(tmp_path / "two") == [0, 1]
    reference = _layer_arrays(tmp_path / "single" / "last.weights.h5")
    distributed = _layer_arrays(tmp_path / "two" / "last.weights.h5")
    assert reference.keys() == distributed.keys() and reference
    largest = max(float(np.abs(reference[k] - distributed[k]).max()) for k in reference)
    print(f"largest weight difference, 2 workers vs 1 process: {largest:.3g}")
    assert largest < 1e-4


@pytest.mark.slow
def test_killed_worker_then_restart_resumes_from_last_epoch(tmp_path, embedded_cache):
    from iqa_keras.training.launch import start_workers, stop, wait_for_workers

    env = _env(tmp_path)
    config = _config(tmp_path, embedded_cache, "resume", epochs=4, steps_per_epoch=8, strategy="multi_worker")
    run_dir = tmp_path / "run"
    command = [sys.executable, "-m", "iqa_keras.cli", "train", str(config), "--out", str(run_dir)]
    workers = start_workers(command, 2, env=env, prefix_output=False)
    state = run_dir / "state.json"
    try:
        deadline = time.time() + 600
        while time.time() < deadline and all(w.poll() is None for w in workers):
            if state.is_file() and json.loads(state.read_text())["epochs_done"] >= 1:
                break
            time.sleep(0.1)
        assert all(w.poll() is None for w in workers), "a worker ended before one could be killed"
        workers[1].send_signal(signal.SIGKILL)
        workers[1].wait()
        # The chief notices at its next collective step, or hangs there: bounded either way.
        try:
            workers[0].wait(timeout=120)
        except subprocess.TimeoutExpired:
            pass
    finally:
        stop(workers)
    done = json.loads(state.read_text())["epochs_done"]
    assert 1 <= done < 4

    restarted = start_workers(command, 2, env=env, prefix_output=False)
    assert wait_for_workers(restarted, timeout=900) == 0
    assert _history_epochs(run_dir) == [0, 1, 2, 3]
    assert json.loads(state.read_text())["epochs_done"] == 4
    assert {p.name for p in run_dir.iterdir()} == RUN_FILES
