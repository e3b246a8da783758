"""Multi-dataset runs of ``iqa-keras train``: per-dataset validation columns, the bias-aware loss, resume.

The two "datasets" are subsets of the embedded synthetic set with different
distortions, the second on a 0-100 scale (``mos_map``), so their MOS scales
differ. Figures are checked against scipy / numpy computed here from the
run's saved weights, not against the code's own logs.
"""
import csv
import json
import logging
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest
import tensorflow as tf
from scipy import stats

from helpers import tiny_config, write_config

CONTENTS = ["astronaut", "chelsea", "coffee", "rocket", "motorcycle"]
QUADRATIC_0_100 = [6.25, -12.5, 6.25]  # 100 * ((mos - 1) / 4) ** 2: increasing on [1, 5], 0-100

PER_DATASET = ("srcc", "plcc", "krcc", "rmse")
IDENTITY = [0.0, 1.0, 0.0, 0.0]  # b0 + b1 x + b2 x^2 + b3 x^3 = x



def _config(tmp_path, cache, *, epochs=2, loss="bias_aware", anchor="lab_a", two=True, augment=False,
            train_extra=None, name="c.toml"):
    """Two "labs" on the embedded set (the second on a 0-100 scale), fr_simple at 32 px."""
    datasets = [{"name": "embedded", "db": "lab_a", "options": {
        "size": 48, "contents": CONTENTS, "distortions": ["gaussian_blur", "white_noise", "jpeg"]}}]
    if two:
        datasets.append({"name": "embedded", "db": "lab_b", "options": {
            "size": 48, "contents": CONTENTS, "mos_map": QUADRATIC_0_100,
            "distortions": ["gaussian_blur", "contrast_reduction", "impulse_noise"]}})
    loss_section = {"name": loss}
    if loss == "bias_aware":
        loss_section.update(bias_fun="first_order", r_th=-1.0, anchor_db=anchor)
    sections = tiny_config(cache, loss=loss_section, augment={"enabled": augment},
                           train={"epochs": epochs, **(train_extra or {})})
    sections["data"]["datasets"] = datasets
    return write_config(tmp_path / name, sections)


def _history(run_dir):
    with open(run_dir / "history.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    return list(rows[0]) if rows else [], rows


def _last_model(config, run_dir):
    """The model as it was at the end of the last finished epoch (last.weights.h5)."""
    from iqa_keras.training.callbacks import RunState
    from iqa_keras.training import build_compiled_model

    model = build_compiled_model(config)
    RunState.restore(run_dir, model, {})
    return model


def _predict(model, records):
    from iqa_keras.data import make_dataset

    pipeline = make_dataset(records, 32, 16, crop="center", training=False)
    return model.predict(pipeline, verbose=0).ravel().astype(float)


# ------------------------------------------------------------------- building blocks


def test_embedded_reader_options_subset_and_rescale(embedded_cache):
    from iqa_keras.data import read_dataset

    plain = read_dataset("embedded", cache_dir=embedded_cache, size=48)
    part = read_dataset("embedded", cache_dir=embedded_cache, size=48, contents=["chelsea", "rocket"],
                        distortions=["jpeg"], mos_map=QUADRATIC_0_100)
    assert len(part) == 2 * 1 * 5
    assert set(part["content"]) == {"embedded:chelsea", "embedded:rocket"} and set(part["distortion"]) == {"jpeg"}
    for _, row in part.iterrows():
        mos = 5 - (5 - 1.4) * (row["level"] / 5) ** 1.2  # the documented curve, jpeg: floor 1.4, gamma 1.2
        assert row["mos"] == pytest.approx(100 * ((mos - 1) / 4) ** 2, abs=1e-4)  # by hand
        assert row["mos_std"] == pytest.approx((0.3 + 0.05 * row["level"]) * 50 * (mos - 1) / 4, rel=1e-4)
        same = plain[plain["dist"] == row["dist"]]
        assert len(same) == 1 and same["ref"].iloc[0] == row["ref"]  # the same images
    with pytest.raises(ValueError, match="mos_map.*not strictly increasing"):
        read_dataset("embedded", cache_dir=embedded_cache, size=48, mos_map=[10, -1])
    with pytest.raises(ValueError, match="contents.*'lena'"):
        read_dataset("embedded", cache_dir=embedded_cache, size=48, contents=["lena"])


def test_bad_reader_option_names_the_config_entry(tmp_path, embedded_cache):
    from iqa_keras.config import ConfigError, load_config
    from iqa_keras.training import prepare_data

    path = _config(tmp_path, embedded_cache)
    path.write_text(path.read_text().replace('"jpeg"]', '"jpegg"]'))
    with pytest.raises(ConfigError, match=r"c\.toml: data\.datasets\[0\] \(embedded\): .*distortions.*jpegg"):
        prepare_data(load_config(path))


def test_epoch_metrics_per_group_figures_match_scipy(rng):
    from iqa_keras.metrics import EpochMetrics

    features = rng.normal(size=(45, 3)).astype("float32")
    targets = (features @ np.array([1.0, -0.5, 0.2]) + rng.normal(scale=0.8, size=45)).astype("float32")
    groups = np.array(["a"] * 20 + ["b"] * 24 + ["c"])
    dataset = tf.data.Dataset.from_tensor_slices((features, targets[:, None])).batch(16)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    callback = EpochMetrics(dataset, groups=groups, group_denormalize={"b": lambda v: 10 * v + 50})
    callback.set_model(model)
    logs = {}
    callback.on_epoch_end(0, logs)
    predicted = model.predict(features, verbose=0).ravel()
    a, b = groups == "a", groups == "b"
    assert logs["val_srcc"] == pytest.approx(stats.spearmanr(predicted, targets).statistic, abs=1e-6)
    assert logs["val_a_srcc"] == pytest.approx(stats.spearmanr(predicted[a], targets[a]).statistic, abs=1e-6)
    assert logs["val_b_plcc"] == pytest.approx(stats.pearsonr(predicted[b], targets[b]).statistic, abs=1e-6)
    assert logs["val_b_krcc"] == pytest.approx(stats.kendalltau(predicted[b], targets[b]).statistic, abs=1e-6)
    assert logs["val_a_rmse"] == pytest.approx(np.sqrt(np.mean((predicted[a] - targets[a]) ** 2)), rel=1e-5)
    assert logs["val_b_rmse"] == pytest.approx(10 * np.sqrt(np.mean((predicted[b] - targets[b]) ** 2)), rel=1e-5)
    assert np.isnan(logs["val_c_srcc"])  # one sample: undefined
    bad = EpochMetrics(dataset, groups=groups[:-1])  # e.g. a shuffled or repeated pipeline
    bad.set_model(model)
    with pytest.raises(ValueError, match="44 group labels for 45"):
        bad.on_epoch_end(0, {})


# ------------------------------------------------------------------- runs


def test_two_dataset_bias_aware_run_logs_per_dataset_figures_and_biases(tmp_path, embedded_cache):
    from iqa_keras import load_model
    from iqa_keras.config import load_config
    from iqa_keras.training import prepare_data, train

    config = load_config(_config(tmp_path, embedded_cache, epochs=2))
    run_dir = train(config, tmp_path / "run")
    header, rows = _history(run_dir)
    assert [int(float(r["epoch"])) for r in rows] == [0, 1]
    for label in ("lab_a", "lab_b"):
        assert {f"val_{label}_{m}" for m in PER_DATASET} <= set(header)
        assert {f"bias_{label}_b{k}" for k in range(4)} | {f"train_r_{label}"} <= set(header)

    # Independent figures from the weights of the last epoch, one dataset at a time.
    data = prepare_data(config)
    model = _last_model(config, run_dir)
    last = rows[-1]
    for label in ("lab_a", "lab_b"):
        val = data.records["val"][data.records["val"]["db"] == label]
        train_mos = data.records["train"].loc[data.records["train"]["db"] == label, "mos"].to_numpy()
        mean, std = train_mos.mean(), train_mos.std()
        predicted = _predict(model, val)
        mos = val["mos"].to_numpy()
        assert float(last[f"val_{label}_srcc"]) == pytest.approx(stats.spearmanr(predicted, mos).statistic, abs=1e-5)
        assert float(last[f"val_{label}_plcc"]) == pytest.approx(stats.pearsonr(predicted, mos).statistic, abs=1e-4)
        rmse = np.sqrt(np.mean((predicted * std + mean - mos) ** 2))  # on the dataset's own MOS scale
        assert float(last[f"val_{label}_rmse"]) == pytest.approx(rmse, rel=1e-4)

    # The biases: the anchor keeps the identity; lab_b's line is the least-squares line of the
    # last model's predictions of lab_b's training pairs against lab_b's standardised MOS.
    state = json.loads((run_dir / "state.json").read_text())["callbacks"]["bias"]
    biases = np.array(state["biases"])
    assert state["started_epoch"] == 0
    np.testing.assert_allclose(biases[0], IDENTITY)
    assert [float(last[f"bias_lab_a_b{k}"]) for k in range(4)] == IDENTITY
    train_b = data.records["train"][data.records["train"]["db"] == "lab_b"]
    predicted = _predict(model, train_b)
    mos_b = train_b["mos"].to_numpy()
    slope, intercept = np.polyfit(predicted, (mos_b - mos_b.mean()) / mos_b.std(), 1)
    assert slope > 0
    np.testing.assert_allclose(biases[1], [intercept, slope, 0, 0], rtol=2e-3, atol=2e-3)
    np.testing.assert_allclose([float(last[f"bias_lab_b_b{k}"]) for k in range(4)], biases[1], rtol=1e-6)

    # The saved model is on the anchor's scale; metrics.json agrees with the best epoch's row.
    metrics = json.loads((run_dir / "metrics.json").read_text())
    best = rows[metrics["best_epoch"] - 1]
    assert metrics["val"]["per_db"]["lab_b"]["srcc"] == pytest.approx(float(best["val_lab_b_srcc"]), abs=1e-6)
    best_model = load_model(run_dir / "best.keras")
    val_b = data.records["val"][data.records["val"]["db"] == "lab_b"]
    assert metrics["val"]["per_db"]["lab_b"]["srcc"] == pytest.approx(  # scipy, from the saved model's predictions
        stats.spearmanr(_predict(best_model, val_b), val_b["mos"]).statistic, abs=1e-5)
    anchor_mos = data.records["train"].loc[data.records["train"]["db"] == "lab_a", "mos"].to_numpy()
    saved = best_model.iqa_info
    assert (saved.score_mean, saved.score_std) == pytest.approx((anchor_mos.mean(), anchor_mos.std()))
    assert saved.trained_on == ["lab_a", "lab_b"]


class Interrupted(Exception):
    """Stands for a kill right after an epoch's state was saved."""


def test_resume_restores_the_estimated_biases(tmp_path, embedded_cache, monkeypatch, caplog):
    from iqa_keras import training
    import iqa_keras.training.run  # noqa: F401  (patched below)
    from iqa_keras.training.callbacks import RunState
    from iqa_keras.config import load_config

    seen = {}

    class InterruptedRunState(RunState):
        interrupt = True

        def on_epoch_end(self, epoch, logs=None):
            super().on_epoch_end(epoch, logs)
            if self.interrupt:
                raise Interrupted(epoch)

        @classmethod
        def restore(cls, run_dir, model, stateful):
            done = super().restore(run_dir, model, stateful)
            updater = stateful["bias"]
            seen.update(done=done, started=updater.started_epoch, same_loss=model.loss is updater.loss,
                        biases=model.loss.get_biases(2))
            return done

    monkeypatch.setattr(training.run, "RunState", InterruptedRunState)
    # steps_per_epoch: the repeating training pipeline, as long runs use it.
    config = load_config(_config(tmp_path, embedded_cache, epochs=2, augment=True, train_extra={"steps_per_epoch": 3}))
    run_dir = tmp_path / "run"
    with pytest.raises(Interrupted):
        training.train(config, run_dir)
    state = json.loads((run_dir / "state.json").read_text())
    assert state["epochs_done"] == 1
    stored = np.array(state["callbacks"]["bias"]["biases"])[:2]
    assert np.abs(stored[1] - IDENTITY).max() > 1e-3, "no bias estimated before the interruption"
    assert seen["done"] == 0 and np.allclose(seen["biases"], IDENTITY)  # the first start began from identity

    InterruptedRunState.interrupt = False
    with caplog.at_level(logging.INFO, logger="iqa_keras"):
        training.train(config, run_dir)
    assert "Resuming after epoch 1 of 2" in caplog.text
    assert seen["done"] == 1 and seen["started"] == 0 and seen["same_loss"]
    np.testing.assert_allclose(seen["biases"], stored, rtol=1e-6)  # the compiled loss starts from them
    _, rows = _history(run_dir)
    assert [int(float(r["epoch"])) for r in rows] == [0, 1]
    np.testing.assert_allclose([float(rows[0][f"bias_lab_b_b{k}"]) for k in range(4)], stored[1], rtol=1e-6)


def test_unknown_anchor_is_a_config_error_before_any_work(tmp_path, embedded_cache):
    from iqa_keras.config import ConfigError, load_config
    from iqa_keras.training import train

    path = _config(tmp_path, embedded_cache, anchor="lab_c")
    with pytest.raises(ConfigError) as error:
        train(load_config(path), tmp_path / "run")
    message = str(error.value)
    assert str(path) in message and "loss.anchor_db" in message and "lab_a, lab_b" in message
    assert not (tmp_path / "run").exists()
    with pytest.raises(ConfigError, match="loss.anchor_db: index 2 out of range"):
        train(load_config(_config(tmp_path, embedded_cache, anchor=2)), tmp_path / "run")


def test_single_dataset_run_keeps_the_plain_columns(tmp_path, embedded_cache):
    from iqa_keras.config import load_config
    from iqa_keras.training import train

    run_dir = train(load_config(_config(tmp_path, embedded_cache, epochs=1, loss="mse", two=False)), tmp_path / "run")
    header, _ = _history(run_dir)
    assert header == ["epoch", "loss", "lr", "val_srcc", "val_plcc", "val_krcc", "val_rmse", "val_main"]


MIRRORED = textwrap.dedent(
    """
    import json, sys
    import numpy as np
    import tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    from iqa_keras.config import load_config
    from iqa_keras.training import train

    run_dir = train(load_config(sys.argv[1], ["train.strategy=mirrored"]), sys.argv[2])
    state = json.loads((run_dir / "state.json").read_text())
    print(json.dumps(state["callbacks"]["bias"]["biases"][:2]))
    """
)


@pytest.mark.slow
def test_bias_aware_run_under_the_mirrored_strategy(tmp_path, embedded_cache):
    path = _config(tmp_path, embedded_cache, epochs=1)
    result = subprocess.run([sys.executable, "-c", MIRRORED, str(path), str(tmp_path / "run")],
                            capture_output=True, text=True, timeout=500)
    assert result.returncode == 0, result.stderr[-3000:]
    biases = np.array(json.loads(result.stdout.strip().splitlines()[-1]))
    np.testing.assert_allclose(biases[0], [0, 1, 0, 0])
    assert np.abs(biases[1] - [0, 1, 0, 0]).max() > 1e-3
    _, rows = _history(tmp_path / "run")
    assert "val_lab_b_srcc" in rows[0] and "bias_lab_b_b1" in rows[0]
