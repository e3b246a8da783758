"""The training options the reference recipes need: per-comparison PieAPP, score kinds, schedules, val_loss."""
import json

import numpy as np
import pytest

from helpers import write_config, write_pieapp


def _pieapp_sections(root, **changes):
    sections = {
        "model": {"architecture": "fr_simple", "input_size": 32, "dense_num": 8},
        "loss": {"name": "fr_loss", "mse_factor": 0.5, "spearman_factor": 0.0, "squared_pearson": True},
        "data": {"datasets": [{"name": "pieapp", "root": str(root), "score_norm": [0.47, 0.26], "crop": "pad",
                               "options": {"aggregate": "none"}}]},
        "augment": {"enabled": True, "rot90": True, "flip_lr": True, "flip_ud": False, "lightness": []},
        "optimizer": {"learning_rate": 1e-3, "decay_every": 1, "decay_offset": 1},
        "train": {"epochs": 2, "batch_size": 4, "verbose": 0, "monitor": "val_loss", "monitor_mode": "min"},
    }
    for section, values in changes.items():
        sections[section].update(values)
    return sections


@pytest.mark.slow  # about 18 s of training
def test_per_comparison_pieapp_trains_from_a_config(tmp_path):
    """aggregate = "none" (one row per labelled comparison) passes the duplicate check and trains."""
    from iqa_keras.config import load_config
    from iqa_keras.training import prepare_data, train
    from iqa_keras.training.callbacks import read_history

    root = write_pieapp(tmp_path / "pieapp", comparisons=2)
    config = load_config(write_config(tmp_path / "pieapp.toml", _pieapp_sections(root)))
    data = prepare_data(config)
    train_rows = data.records["train"]
    assert len(train_rows) == 2 * 3 * 2  # two training references x three images x two comparisons each
    assert train_rows.duplicated(["ref", "dist"]).sum() == 6
    run_dir = train(config, tmp_path / "run")
    history = read_history(run_dir / "history.csv")
    assert [row["epoch"] for row in history] == [0, 1]
    assert all(np.isfinite(row["val_loss"]) for row in history)  # the reference's checkpoint monitor
    # decay_offset = 1, decay_every = 1: the reference's floor((1 + epoch) / 1) drops from the first epoch.
    assert [row["lr"] for row in history] == pytest.approx([1e-4, 1e-5])
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["monitor"]["val_loss"] == pytest.approx(min(row["val_loss"] for row in history), rel=1e-5)
    # The test split (minus error scores) is reported on its own, with its own standardisation.
    assert set(metrics["test"]["per_db"]) <= {"pieapp/minus_error"} and metrics["test"]["n"] == 3


def test_pieapp_test_scores_keep_their_own_scale(tmp_path):
    """Minus error scores are never standardised with the preference constants, nor trained on."""
    from iqa_keras.config import ConfigError, load_config
    from iqa_keras.training import make_pipelines, prepare_data

    root = write_pieapp(tmp_path / "pieapp")
    config = load_config(write_config(tmp_path / "p.toml", _pieapp_sections(root)))
    data = prepare_data(config)
    test = data.records["test"]
    assert set(test["db"]) == {"pieapp/minus_error"} and set(data.records["train"]["db"]) == {"pieapp"}
    errors = test["mos"].to_numpy()  # minus the fixture's per-image error scores 0.5, 1.5, 2.5
    np.testing.assert_allclose(sorted(errors), [-2.5, -1.5, -0.5])
    assert data.score_norm["pieapp"] == (0.47, 0.26)
    assert data.score_norm["pieapp/minus_error"] == pytest.approx((errors.mean(), errors.std()))
    targets = np.concatenate([y.numpy() for _, y in make_pipelines(config, data)["test"]]).ravel()
    np.testing.assert_allclose(targets, (errors - errors.mean()) / errors.std(), rtol=1e-5)
    # A split that would train on both kinds of score is refused, naming the key.
    sections = _pieapp_sections(root)
    sections["data"]["datasets"][0].update(split="train")  # every row, test images included, to training
    with pytest.raises(ConfigError, match=r"data.datasets\[0\].split: .*preference"):
        prepare_data(load_config(write_config(tmp_path / "mixed.toml", sections)))


def test_phases_and_decay_offset_rates():
    """Piecewise phases and the reference's floor((1 + epoch) / drop), against hand-written rates."""
    from iqa_keras.training.optimizers import PhaseRates, StepDecay

    phases = PhaseRates([(1, 1e-3), (4, 1e-4), (12, 5e-6), (1, 5e-7)])
    assert [phases.rate(e) for e in range(20)] == pytest.approx(
        [1e-3] + [1e-4] * 4 + [5e-6] * 12 + [5e-7] * 3)
    shifted, plain = StepDecay(1e-4, 0.1, 10, offset=1), StepDecay(1e-4, 0.1, 10)
    assert [shifted.rate(e) for e in (0, 8, 9, 18, 19)] == pytest.approx([1e-4, 1e-4, 1e-5, 1e-5, 1e-6])
    assert [plain.rate(e) for e in (0, 9, 10, 19, 20)] == pytest.approx([1e-4, 1e-4, 1e-5, 1e-5, 1e-6])


def test_schedule_options_are_checked(tmp_path):
    from iqa_keras.config import ConfigError, load_config

    def load(text):
        path = tmp_path / "c.toml"
        path.write_text(text)
        return load_config(path)

    config = load("[optimizer]\nphases = [{ epochs = 2, learning_rate = 1e-3 }, { epochs = 1, learning_rate = 1e-4 }]\n")
    assert config.optimizer.phases[1] == {"epochs": 1, "learning_rate": 1e-4}
    with pytest.raises(ConfigError, match=r"optimizer.phases\[0\].epochs"):
        load("[optimizer]\nphases = [{ epochs = 0, learning_rate = 1e-3 }]\n")
    with pytest.raises(ConfigError, match=r"optimizer.phases\[0\]: expected"):
        load("[optimizer]\nphases = [{ epochs = 2, rate = 1e-3 }]\n")
    with pytest.raises(ConfigError, match="optimizer.decay_offset"):
        load("[optimizer]\ndecay_offset = -1\n")
    with pytest.raises(ConfigError, match="augment.lightness_policy"):
        load('[augment]\nlightness_policy = "sometimes"\n')
    with pytest.raises(ConfigError, match=r"data.datasets\[0\].resize"):
        load('[model]\ninput_size = 64\n[[data.datasets]]\nname = "embedded"\nresize = 32\n')
