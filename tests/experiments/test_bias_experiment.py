"""The seed's synthetic bias experiment: its data, its outputs, and resuming a killed run."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from helpers import write_image
from iqa_keras.experiments.bias_blur import (
    CropSampler,
    ExperimentOptions,
    _folder_split,
    experiment_tables,
    gaussian_blur,
    grid_crops,
    run_experiment,
    seed_scheme,
    sigma_to_mos,
    true_bias,
)

REPO = Path(__file__).resolve().parents[2]
IDENTITY = [0.0, 1.0, 0.0, 0.0]  # b0 + b1 x + b2 x^2 + b3 x^3 = x (the anchor, train_1)


def test_sigma_to_mos_hand_values():
    # m = 100 - 50 (sigma - 1); MOS = max(1, 1 + 0.035 m + m (m - 60)(100 - m) 7e-6)
    assert sigma_to_mos(1.0) == pytest.approx(4.5)  # m = 100
    assert sigma_to_mos(2.0) == pytest.approx(1 + 1.75 + 50 * -10 * 50 * 7e-6)  # m = 50: 2.575
    assert sigma_to_mos(3.0) == pytest.approx(1.0)  # m = 0
    assert sigma_to_mos(1.4) == pytest.approx(1 + 0.035 * 80 + 80 * 20 * 20 * 7e-6)


def test_true_biases_are_the_seed_polynomials():
    # the seed's polynomials (shared/reference/losses_and_heads.md); the "mixed" tables use the same ones
    assert true_bias("train_2") == (0.5, 0.5, 0.0, 0.0)
    for name in ("train_4", "train_mixed_4"):
        assert true_bias(name) == pytest.approx((-2.3, 5.03133896, -1.6883704, 0.19968759), abs=1e-12)
    with pytest.raises(ValueError, match="train_7"):
        true_bias("train_7")


def test_seed_scheme_reproduces_the_seed_tables(shared_dir):
    data = shared_dir / "data"
    names = [p.name for p in (data / "live_refimgs").iterdir() if p.suffix.lower() == ".bmp"]
    train, val = seed_scheme(*_folder_split(names))
    for ours, theirs in ((train, pd.read_csv(data / "bias_loss_iqb_train.csv")),
                         (val, pd.read_csv(data / "bias_loss_iqb_val.csv"))):
        assert list(ours["src_image"]) == list(theirs["src_image"])
        assert list(ours["db"]) == list(theirs["db"])
        np.testing.assert_allclose(ours["sigma"], theirs["sigma"], atol=1e-12)


def test_refs_folder_uses_the_seed_tables_beside_it(shared_dir):
    train, val = experiment_tables(ExperimentOptions(refs=str(shared_dir / "data" / "live_refimgs")))
    assert len(train) == len(val) == 80
    assert sorted(set(train["db"])) == ["train_1", "train_2", "train_3", "train_4"]
    assert not set(train["src_image"]) & set(val["src_image"])


def test_embedded_default_keeps_contents_apart():
    train, val = experiment_tables(ExperimentOptions())
    assert len(train) == len(val) == 80
    assert not set(train["src_image"]) & set(val["src_image"])
    # As in the seed, each training content belongs to exactly one dataset.
    assert (train.groupby("src_image")["db"].nunique() == 1).all()


def test_gaussian_blur_of_an_impulse_is_the_sampled_gaussian():
    image = np.zeros((41, 41, 3), np.uint8)
    image[20, 20] = 255
    sigma = 2.0
    blurred = gaussian_blur(image, sigma).astype(float)
    offsets = np.arange(-8, 9)  # truncate = 4 sigma
    kernel = np.exp(-(offsets**2) / (2 * sigma**2))
    kernel /= kernel.sum()
    expected = 255 * np.outer(kernel, kernel)
    np.testing.assert_allclose(blurred[12:29, 12:29, 1], expected, atol=0.5 + 1e-9)
    assert blurred[:, :, 0] == pytest.approx(blurred[:, :, 2])


def test_crop_sampler_draws_windows_of_the_images(rng):
    images = [rng.integers(0, 256, (40 + 5 * i, 50, 3), dtype=np.uint8) for i in range(5)]
    targets = np.stack([np.arange(5.0), np.arange(5) % 4], axis=1)
    sampler = CropSampler(images, targets, size=16, batch_size=4, crops_per_image=3, seed=7)
    seen = []
    batches = list(sampler())
    assert len(batches) == sampler.steps() == 4
    for batch, y in batches:
        for crop, (mos, _) in zip(batch, y):
            image = images[int(mos)].astype(np.float32)
            windows = np.lib.stride_tricks.sliding_window_view(image, (16, 16, 3))[..., 0, :, :, :]
            found = (windows == crop).all(axis=(-3, -2, -1)).any() or (windows == crop[:, ::-1]).all(
                axis=(-3, -2, -1)).any()
            assert found
            seen.append(int(mos))
    assert sorted(seen) == sorted(list(range(5)) * 3)
    # Epoch e's crops depend only on (seed, e): a resumed sampler draws the same ones.
    again = CropSampler(images, targets, size=16, batch_size=4, crops_per_image=3, seed=7, first_epoch=0)
    np.testing.assert_array_equal(next(again())[0], batches[0][0])
    assert len(grid_crops(images, 16, 3)) == 5 * 9


def _tiny_refs(folder: Path, rng, count=8, size=48):

    folder.mkdir()
    for i in range(count):
        base = rng.integers(0, 256, (size // 4, size // 4, 3), dtype=np.uint8)
        image = np.kron(base, np.ones((4, 4, 1), np.uint8))  # blocky: sharp edges that blur visibly
        write_image(folder / f"ref{i}.png", image)
    return folder


def _tiny_options(refs, out, **changes):
    values = dict(refs=str(refs), crop_size=32, width=4, batch_size=16, crops_per_image=1, eval_grid=1,
                  epochs=2, patience=0, r_th=-1.0, bias_fun="first_order", learning_rate=1e-3, out=str(out),
                  verbose=0)
    values.update(changes)
    return ExperimentOptions(**values)


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """One tiny bias-aware run (r_th = -1: biases estimated from the first epoch)."""
    root = tmp_path_factory.mktemp("bias_blur")
    refs = _tiny_refs(root / "refs", np.random.default_rng(5))
    summary = run_experiment(_tiny_options(refs, root / "run"))
    return refs, root / "run", summary


def test_tiny_run_writes_results_and_figures(tiny_run):
    _, out, summary = tiny_run
    results = pd.read_csv(out / "results.csv")
    assert list(results["epoch"]) == [1, 2]
    for column in ["val_r", "val_rmse", *[f"train_r_train_{k}" for k in range(1, 5)],
                   *[f"bias_train_{k}_b{j}" for k in range(1, 5) for j in range(4)]]:
        assert column in results.columns
    # r_th = -1: biases estimated from the first epoch on; the anchor keeps the identity.
    assert summary["biases_started_epoch"] == 1
    assert summary["estimated_biases"]["train_1"] == pytest.approx(IDENTITY)
    assert list(results[[f"bias_train_1_b{j}" for j in range(4)]].iloc[-1]) == pytest.approx(IDENTITY)
    for name in ["bias_train_1.png", "bias_train_4.png", "val_predictions.png", "best.keras", "summary.json"]:
        assert (out / name).is_file()
    assert summary["epochs_run"] == 2 and summary["best_epoch"] in (1, 2)


def test_options_must_match_to_resume(tiny_run):
    refs, out, _ = tiny_run
    with pytest.raises(ValueError, match="bias_fun"):
        run_experiment(_tiny_options(refs, out, bias_fun="third_order"))


def test_restarted_run_starts_from_the_saved_biases(tiny_run):
    """Starting the same run again restores the biases of state.json (nothing left to train here)."""
    refs, out, first = tiny_run
    saved = np.array(json.loads((out / "state.json").read_text())["callbacks"]["bias"]["biases"])[:4]
    assert not np.allclose(saved[1:], IDENTITY)
    again = run_experiment(_tiny_options(refs, out))
    estimated = np.array([again["estimated_biases"][f"train_{k}"] for k in range(1, 5)])
    np.testing.assert_allclose(estimated, saved, rtol=1e-6, atol=1e-7)
    assert again["biases_started_epoch"] == first["biases_started_epoch"] == 1
    assert list(pd.read_csv(out / "results.csv")["epoch"]) == [1, 2]


@pytest.mark.slow
def test_killed_run_resumes_with_its_biases(tmp_path, rng):
    """SIGKILL after the first epoch; the restarted run starts from the biases of state.json."""
    refs = _tiny_refs(tmp_path / "refs", rng)
    out = tmp_path / "run"
    command = [sys.executable, "-m", "iqa_keras.cli", "experiment", "bias-blur", "--refs", str(refs),
               "--crop-size", "32", "--width", "4", "--batch-size", "16", "--crops-per-image", "1",
               "--eval-grid", "1", "--epochs", "200", "--patience", "0", "--r-th", "-1", "--quiet",
               "--out", str(out)]
    process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    state_path = out / "state.json"
    deadline = time.time() + 240
    try:
        while time.time() < deadline and process.poll() is None:
            if state_path.is_file():
                break
            time.sleep(0.05)
        assert state_path.is_file(), process.stderr.read().decode() if process.poll() is not None else "timeout"
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    state = json.loads(state_path.read_text())
    done = state["epochs_done"]
    assert 1 <= done < 200
    saved = np.array(state["callbacks"]["bias"]["biases"])[:4]
    assert not np.allclose(saved[1:], IDENTITY)  # estimated, not the initial identity

    # Restart with the epochs already done: nothing to train, the biases are the saved ones.
    summary = run_experiment(_tiny_options(refs, out, epochs=done))
    estimated = np.array([summary["estimated_biases"][f"train_{k}"] for k in range(1, 5)])
    np.testing.assert_allclose(estimated, saved, rtol=1e-6, atol=1e-7)
    assert summary["biases_started_epoch"] == 1
    # One more epoch: continues from there, each epoch once in results.csv.
    run_experiment(_tiny_options(refs, out, epochs=done + 1))
    assert list(pd.read_csv(out / "results.csv")["epoch"]) == list(range(1, done + 2))


def _command_line():
    """The ``iqa-keras experiment bias-blur`` argument parser."""
    import argparse

    from iqa_keras.experiments.bias_blur import add_arguments

    parser = argparse.ArgumentParser()
    add_arguments(parser)
    return parser


def test_unbiased_option_trains_on_the_true_mos():
    """``--unbiased`` (the ceiling run): training targets are the seed's MOS formula, not the biased MOS."""
    from iqa_keras.experiments.bias_blur import build_split, options_from_args

    parser = _command_line()
    assert options_from_args(parser.parse_args(["--unbiased"])).unbiased is True
    assert options_from_args(parser.parse_args([])).unbiased is False
    table = pd.DataFrame({"src_image": ["a", "a"], "sigma": [1.0, 3.0], "db": ["train_3", "train_3"]})
    references = {"a": np.full((40, 40, 3), 128, np.uint8)}
    # sigma 1 -> m = 100 -> MOS 4.5; sigma 3 -> m = 0 -> MOS 1; train_3's bias is 3 + 0.3 x.
    unbiased = build_split(table, references, biased=False)
    np.testing.assert_allclose(unbiased.target, [4.5, 1.0])
    biased = build_split(table, references, biased=True)
    np.testing.assert_allclose(biased.target, [3 + 0.3 * 4.5, 3 + 0.3 * 1.0])


def test_r_th_1_is_plain_mse_unless_a_weight_is_given():
    from iqa_keras.experiments.bias_blur import options_from_args

    parser = _command_line()
    assert options_from_args(parser.parse_args([])).mse_weight == 0.5  # the documented default (docs/bias-aware.md)
    assert options_from_args(parser.parse_args(["--r-th", "1"])).mse_weight == 0.0
    assert options_from_args(parser.parse_args(["--r-th", "1", "--mse-weight", "0.3"])).mse_weight == 0.3


def test_max_slope_option_takes_a_number_or_none():
    from iqa_keras.experiments.bias_blur import options_from_args

    parser = _command_line()
    assert options_from_args(parser.parse_args([])).max_slope == 3.0
    assert options_from_args(parser.parse_args(["--max-slope", "none"])).max_slope is None
    assert options_from_args(parser.parse_args(["--max-slope", "2.5"])).max_slope == 2.5
    with pytest.raises(SystemExit):
        parser.parse_args(["--max-slope", "steep"])


# ---------------------------------------------------------------- --profile reference
def test_nearest_mode_blur_matches_scikit_image():
    """The reference blurred with skimage.filters.gaussian, whose borders are "nearest" by default."""
    from skimage.filters import gaussian

    image = np.random.default_rng(2).integers(0, 256, (30, 40, 3), dtype=np.uint8)
    expected = gaussian(image.astype(np.float64), sigma=1.7, mode="nearest", truncate=4.0, channel_axis=-1,
                        preserve_range=True)
    ours = gaussian_blur(image, 1.7, mode="nearest").astype(np.float64)
    assert np.abs(ours - expected).max() <= 0.5 + 1e-3  # rounding to uint8 only
    assert np.abs(gaussian_blur(image, 1.7).astype(np.float64) - expected)[:3].max() > 1  # reflect differs


def test_centre_crop_is_torchvisions():
    from iqa_keras.experiments.bias_blur import centre_crops

    image = np.arange(41 * 50 * 3, dtype=np.int64).reshape(41, 50, 3).astype(np.uint8)
    # CenterCrop(32): top = int(round((41 - 32) / 2)) = int(round(4.5)) = 4, left = (50 - 32) / 2 = 9
    np.testing.assert_array_equal(centre_crops([image], 32)[0], image[4:36, 9:41])


def test_mixed_table_biases_follow_first_appearance(shared_dir):
    """The reference gave the k-th dataset label to appear in its table the k-th bias."""
    from iqa_keras.experiments.bias_blur import reference_biases

    table = pd.read_csv(shared_dir / "data" / "bias_loss_iqb_train_mixed.csv")
    biases = reference_biases(table["db"])
    assert list(biases) == ["train_mixed_1", "train_mixed_4", "train_mixed_2", "train_mixed_3"]
    assert biases["train_mixed_4"] == (0.5, 0.5, 0.0, 0.0)  # the paper's second bias
    assert biases["train_mixed_3"] == pytest.approx((-2.3, 5.03133896, -1.6883704, 0.19968759))
    plain = reference_biases(pd.read_csv(shared_dir / "data" / "bias_loss_iqb_train.csv")["db"])
    assert plain == {f"train_{k}": true_bias(f"train_{k}") for k in range(1, 5)}


def test_third_order_fit_on_the_reference_constraint_grid():
    """Against SLSQP written as the reference did it: from the identity, f' >= 0 at arange(1, 5, 0.001)."""
    from scipy.optimize import minimize

    from iqa_keras.training.bias import fit_third_order

    rng = np.random.default_rng(0)
    x = rng.uniform(1.2, 4.4, 60)
    y = 3.0 - 0.8 * (x - 2.5) ** 2 + rng.normal(0, 0.05, 60)  # a hump: the unconstrained cubic decreases
    points = np.arange(1.0, 5.0, 0.001)

    def objective(p):
        return np.sum((p[0] + p[1] * x + p[2] * x**2 + p[3] * x**3 - y) ** 2)

    constraint = {"type": "ineq", "fun": lambda p: p[1] + 2 * p[2] * points + 3 * p[3] * points**2}
    reference = minimize(objective, np.array([0.0, 1.0, 0.0, 0.0]), method="SLSQP", constraints=constraint,
                         options={"maxiter": 1000, "ftol": 1e-12})
    ours = fit_third_order(x, y, constraint_points=points)
    slopes = ours[1] + 2 * ours[2] * points + 3 * ours[3] * points**2
    assert slopes.min() >= -1e-6
    assert objective(ours) == pytest.approx(objective(reference.x), rel=1e-3)
    np.testing.assert_allclose(ours, reference.x, atol=2e-2)


def test_tiny_run_with_the_reference_profile(tmp_path):
    """The reference profile's code path end to end (tiny sizes): centre-crop validation, random-crop
    bias fits, dropped partial batches, third-order fits on the constraint grid."""
    from iqa_keras.experiments.bias_blur import profile_options

    refs = _tiny_refs(tmp_path / "refs", np.random.default_rng(5))
    options = profile_options("reference", refs=str(refs), crop_size=32, width=4, epochs=2, patience=0,
                              r_th=-1.0, bias_fun="third_order", out=str(tmp_path / "run"), verbose=0)
    summary = run_experiment(options)
    assert summary["epochs_run"] == 2 and summary["options"]["profile"] == "reference"
    assert summary["biases_started_epoch"] == 1
    assert summary["estimated_biases"]["train_1"] == pytest.approx(IDENTITY)
    for label in ("train_2", "train_3", "train_4"):
        b = np.array(summary["estimated_biases"][label])
        grid = np.arange(1.0, 5.0, 0.001)
        assert (b[1] + 2 * b[2] * grid + 3 * b[3] * grid**2).min() >= -1e-6
    snapshot = np.load(tmp_path / "run" / "best_snapshot.npz")
    np.testing.assert_allclose(snapshot["true_biases"][1], true_bias("train_2"))
    assert len(snapshot["val_predictions"]) == 80  # one centre crop per validation image


def test_crop_sampler_drop_last(rng):
    """The reference's DataLoader(drop_last=True): 80 crops in batches of 32 are 2 full steps."""
    images = [rng.integers(0, 256, (40, 40, 3), dtype=np.uint8) for _ in range(80)]
    targets = np.zeros((80, 2))
    sampler = CropSampler(images, targets, size=32, batch_size=32, crops_per_image=1, seed=0, drop_last=True)
    batches = list(sampler())
    assert sampler.steps() == len(batches) == 2 and all(len(b) == 32 for b, _ in batches)
    assert CropSampler(images, targets, 32, 32, 1, seed=0).steps() == 3
