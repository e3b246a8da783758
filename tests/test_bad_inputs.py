"""Bad input is found before the work starts and reported in one line; nothing hangs or half-writes.

One test (or a few) per case a new user ran into: broken images and
mismatched pairs in training data, config typos, unwritable outputs, file
modes, corrupt models, ``--set`` paths, EXIF orientation, byte-order marks,
resuming, record line numbers, memory of large pairs, NaN targets and
losses, multi-output models, leftovers of killed runs, and the units of the
per-epoch RMSE. Images are a few dozen pixels; models are 32 px ``fr_simple``.
"""
import csv
import json
import logging
import math
import os
import stat
import tracemalloc
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from helpers import tiny_config, write_config, write_image
from iqa_keras.cli import evaluation_ntire, evaluation_single_image
from iqa_keras.cli import main as cli_main
from iqa_keras.config import ConfigError, load_config

SIZE = 32


# ---------------------------------------------------------------- shared set-up
@pytest.fixture(scope="module")
def model_path(tmp_path_factory):
    from iqa_keras import build_model, save_model

    model = build_model("fr_simple", input_size=SIZE, dense_num=8)
    path = tmp_path_factory.mktemp("models") / "fr_simple_32.keras"
    save_model(model, path)
    return path


@pytest.fixture(scope="module")
def demo_config(tmp_path_factory, embedded_cache):
    """A config file for the tiny embedded run (one epoch of two steps)."""
    folder = tmp_path_factory.mktemp("demo")
    return write_config(folder / "tiny.toml", tiny_config(embedded_cache, train={"epochs": 1, "steps_per_epoch": 2,
                                                                                "verbose": 0}))


@pytest.fixture(scope="module")
def finished_run(demo_config, tmp_path_factory):
    """A finished one-epoch run made with two --set flags."""
    from iqa_keras.training import train

    run_dir = tmp_path_factory.mktemp("runs") / "run"
    config = load_config(demo_config, ["train.seed=3", "train.batch_size=8"])
    train(config, run_dir)
    return run_dir


def _error_line(capsys) -> str:
    """The command's stderr has no traceback; returns its last line (the error)."""
    err = capsys.readouterr().err
    assert "Traceback" not in err, err
    lines = [line for line in err.splitlines() if line.strip()]
    return lines[-1] if lines else ""


def _pairs_csv(folder: Path, rng, rows: int = 6, size=(40, 40)) -> Path:
    """A generic CSV dataset: ``rows`` pairs of distinct contents, PNG images of ``size``; returns the CSV."""
    lines = ["ref,dist,mos"]
    for i in range(rows):
        write_image(folder / "ref" / f"c{i}.png", rng.integers(0, 256, (*size, 3), dtype=np.uint8))
        write_image(folder / "dist" / f"c{i}_1.png", rng.integers(0, 256, (*size, 3), dtype=np.uint8))
        lines.append(f"ref/c{i}.png,dist/c{i}_1.png,{1.0 + i * 0.5}")
    path = folder / "data.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _csv_config(folder: Path, csv_path: Path) -> Path:
    sections = tiny_config(folder / "cache", data={"datasets": [{"name": "csv", "root": str(csv_path),
                                                                 "fractions": {"train": 0.5, "val": 0.5}}]})
    return write_config(folder / "csv.toml", sections)


# ---------------------------------------------------------------- 1: a truncated JPEG in the training data
def test_truncated_jpeg_in_training_data_stops_before_training_naming_file_and_line(tmp_path, rng, capsys):
    csv_path = _pairs_csv(tmp_path, rng)
    Image.fromarray(rng.integers(0, 256, (40, 40, 3), dtype=np.uint8)).save(tmp_path / "whole.jpg", quality=90)
    data = (tmp_path / "whole.jpg").read_bytes()
    (tmp_path / "dist" / "cut.jpg").write_bytes(data[: len(data) // 2])
    text = csv_path.read_text().replace("dist/c3_1.png", "dist/cut.jpg")
    csv_path.write_text(text)
    run_dir = tmp_path / "run"
    status = cli_main(["train", str(_csv_config(tmp_path, csv_path)), "--out", str(run_dir)])
    line = _error_line(capsys)
    assert status == 2
    assert f"{csv_path}:5" in line and "cut.jpg" in line and "cannot be decoded" in line  # header is line 1
    assert not run_dir.exists()  # found before the run folder was made


def test_image_check_verdicts_are_cached_by_size_and_mtime(tmp_path, rng, monkeypatch):
    from iqa_keras.data import image_check

    paths = [write_image(tmp_path / f"i{k}.png", rng.integers(0, 256, (8, 12, 3), dtype=np.uint8)) for k in range(3)]
    decoded = []
    original = image_check._decode
    monkeypatch.setattr(image_check, "_decode", lambda todo: decoded.append(sorted(todo)) or original(todo))
    first = image_check.check_images(paths, cache_dir=tmp_path / "cache")
    assert [(v.height, v.width, v.error) for v in first.values()] == [(8, 12, None)] * 3
    assert image_check.check_images(paths, cache_dir=tmp_path / "cache") == first
    assert len(decoded) == 1  # the second pass came from the cache
    write_image(paths[1], rng.integers(0, 256, (5, 7, 3), dtype=np.uint8))
    os.utime(paths[1], ns=(1, 10**18))  # a new modification time, whatever the clock's resolution
    again = image_check.check_images(paths, cache_dir=tmp_path / "cache")
    assert decoded[-1] == [os.path.abspath(paths[1])] and again[os.path.abspath(paths[1])].height == 5


# ---------------------------------------------------------------- 2: a pair of two sizes
def test_pair_of_two_sizes_stops_before_training_naming_both_files(tmp_path, rng, capsys):
    csv_path = _pairs_csv(tmp_path, rng)
    write_image(tmp_path / "dist" / "c2_1.png", rng.integers(0, 256, (32, 40, 3), dtype=np.uint8))
    status = cli_main(["train", str(_csv_config(tmp_path, csv_path)), "--out", str(tmp_path / "run")])
    line = _error_line(capsys)
    assert status == 2
    assert f"{csv_path}:4" in line and "c2.png is 40x40" in line and "c2_1.png is 40x32" in line
    assert not (tmp_path / "run").exists()


# ---------------------------------------------------------------- 3, 4: monitor and step count
def test_misspelt_monitor_is_a_config_error(demo_config):
    with pytest.raises(ConfigError, match=r"train\.monitor: 'val_mian' is not a figure.*val_main"):
        load_config(demo_config, ['train.monitor="val_mian"'])
    assert load_config(demo_config, ['train.monitor="val_rmse"', 'train.monitor_mode="min"'])


@pytest.mark.parametrize("steps", ["0", "-3"])
def test_zero_steps_per_epoch_is_a_config_error(demo_config, steps):
    with pytest.raises(ConfigError, match=r"train\.steps_per_epoch: expected an integer >= 1"):
        load_config(demo_config, [f"train.steps_per_epoch={steps}"])


# ---------------------------------------------------------------- 5: output paths
def _pipal_pair(folder: Path, rng):
    write_image(folder / "ref" / "A0001.bmp", rng.integers(0, 256, (SIZE, SIZE, 3), dtype=np.uint8))
    write_image(folder / "dist" / "A0001_00_00.bmp", rng.integers(0, 256, (SIZE, SIZE, 3), dtype=np.uint8))
    return folder / "ref" / "A0001.bmp", folder / "dist" / "A0001_00_00.bmp"


def test_unwritable_outputs_are_refused_before_scoring(model_path, tmp_path, rng, capsys):
    ref, dist = _pipal_pair(tmp_path, rng)
    (tmp_path / "taken").mkdir()
    (tmp_path / "a_file").write_text("x")
    base = ["--ref-dir", str(tmp_path / "ref"), "--dist-dir", str(tmp_path / "dist"), "--models", str(model_path),
            "--tta", "none"]
    for output, why in ((tmp_path / "taken", "is a folder"), (tmp_path / "a_file" / "out.txt", "is a file")):
        assert evaluation_ntire(base + ["--output", str(output)]) == 2
        err = capsys.readouterr().err
        assert "scoring 1 pairs" not in err and "Traceback" not in err  # refused before any scoring
        assert err.strip().splitlines()[-1].startswith(f"evaluation_ntire.py: error: {output}: ") and why in err
    assert cli_main(["score", "--ref", str(ref), "--distorted", str(dist), "--models", str(model_path),
                     "--output", str(tmp_path / "taken")]) == 2
    assert f"{tmp_path / 'taken'}: is a folder" in _error_line(capsys)
    assert evaluation_single_image(["--ref", str(ref), "--distorted", str(dist), "--models", str(model_path),
                                    "--heatmap", str(tmp_path / "taken")]) == 2
    assert f"{tmp_path / 'taken'}: is a folder" in _error_line(capsys)


def test_train_out_that_is_a_file_is_refused_before_reading_data(demo_config, tmp_path, capsys):
    (tmp_path / "run").write_text("not a folder")
    assert cli_main(["train", str(demo_config), "--out", str(tmp_path / "run")]) == 2
    line = _error_line(capsys)
    assert f"{tmp_path / 'run'}: is an existing file; expected a folder" in line
    assert (tmp_path / "run").read_text() == "not a folder"


def test_a_failed_atomic_write_names_the_users_path(tmp_path):
    from iqa_keras.utils.atomic import atomic_write_text

    (tmp_path / "a_file").write_text("x")
    target = tmp_path / "a_file" / "out.txt"
    with pytest.raises(OSError) as error:
        atomic_write_text(target, "data")
    assert error.value.filename == str(target)
    with pytest.raises(IsADirectoryError) as error:
        atomic_write_text(tmp_path, "data")
    assert error.value.filename == str(tmp_path) and not list(tmp_path.glob(".tmp-*"))


# ---------------------------------------------------------------- 6: modes of atomically written files
@pytest.mark.parametrize("umask", [0o022, 0o027])
def test_written_files_follow_the_umask(model_path, tmp_path, rng, umask):
    from iqa_keras import load_model, save_model

    _pipal_pair(tmp_path, rng)
    model = load_model(model_path)
    previous = os.umask(umask)
    try:
        assert evaluation_ntire(["--ref-dir", str(tmp_path / "ref"), "--dist-dir", str(tmp_path / "dist"),
                                 "--models", str(model_path), "--tta", "none",
                                 "--output", str(tmp_path / "output.txt")]) == 0
        save_model(model, tmp_path / "best.keras")
        with open(tmp_path / "plain.txt", "w") as handle:  # what open() makes under this umask
            handle.write("x")
    finally:
        os.umask(previous)
    expected = stat.S_IMODE((tmp_path / "plain.txt").stat().st_mode)
    assert expected == 0o666 & ~umask
    for name in ("output.txt", "best.keras"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == expected, name


# ---------------------------------------------------------------- 7: corrupt models
def test_truncated_or_corrupt_model_file_is_named_as_such(model_path, tmp_path, rng, capsys):
    from iqa_keras import load_model
    from iqa_keras.model_io import ModelFileError

    data = model_path.read_bytes()
    (tmp_path / "cut.keras").write_bytes(data[: len(data) // 2])
    with zipfile.ZipFile(tmp_path / "garbled.keras", "w") as archive:
        archive.writestr("config.json", "{ not json")
        archive.writestr("metadata.json", "{}")
    with pytest.raises(ModelFileError, match=r"cut\.keras: not a \.keras model \(not a complete zip archive"):
        load_model(tmp_path / "cut.keras")
    with pytest.raises(ModelFileError, match=r"garbled\.keras: cannot load the model"):
        load_model(tmp_path / "garbled.keras")
    ref, dist = _pipal_pair(tmp_path, rng)
    assert cli_main(["score", "--ref", str(ref), "--distorted", str(dist), "--models", str(tmp_path / "cut.keras")]) == 2
    line = _error_line(capsys)
    assert "cut.keras: not a .keras model" in line and "not found" not in line.lower()


# ---------------------------------------------------------------- 8: --set paths
def test_set_paths_that_miss_an_index_or_go_below_a_value_are_explained(demo_config, capsys):
    with pytest.raises(ConfigError, match=r"data\.datasets is an array of tables; name one by its index, "
                                          r"e\.g\. data\.datasets\.0\.root"):
        load_config(demo_config, ['data.datasets.root="X"'])
    with pytest.raises(ConfigError, match=r"train\.epochs is a value \(1\), not a table"):
        load_config(demo_config, ["train.epochs.x=1"])
    assert cli_main(["train", str(demo_config), "--set", "train.epochs.x=1"]) == 2
    assert "train.epochs is a value" in _error_line(capsys)


# ---------------------------------------------------------------- 9: EXIF orientation
def _exif_jpeg(path: Path, stored: np.ndarray, orientation: int, exif_first: bool = False) -> Path:
    exif = Image.Exif()
    exif[0x0112] = orientation
    Image.fromarray(stored).save(path, quality=95, exif=exif.tobytes())
    data = path.read_bytes()
    if exif_first:  # drop the JFIF APP0 segment so that EXIF comes first, as many cameras write it
        assert data[2:4] == b"\xff\xe0"
        data = data[:2] + data[4 + int.from_bytes(data[4:6], "big"):]
        path.write_bytes(data)
    return path


@pytest.mark.parametrize("exif_first", [False, True])
def test_exif_orientation_is_applied_when_reading_and_in_the_pipeline(tmp_path, rng, exif_first):
    import tensorflow as tf

    from iqa_keras.data import decode_rgb, read_image

    stored = np.ascontiguousarray(rng.integers(0, 256, (24, 40, 3), dtype=np.uint8))
    path = _exif_jpeg(tmp_path / "photo.jpg", stored, orientation=6, exif_first=exif_first)
    raw = np.array(Image.open(path).convert("RGB"))  # Pillow without transposing: the pixels as stored
    upright = np.rot90(raw, k=-1)  # orientation 6: turn 90 degrees clockwise to view
    assert read_image(path).shape == (40, 24, 3)
    np.testing.assert_array_equal(read_image(path), upright)
    np.testing.assert_array_equal(decode_rgb(tf.constant(str(path))).numpy(), upright)


def test_exif_rotated_distorted_image_scores_as_its_upright_pixels(model_path, tmp_path, rng):
    from iqa_keras import Scorer

    stored = np.ascontiguousarray(rng.integers(0, 256, (SIZE, 48, 3), dtype=np.uint8))
    path = _exif_jpeg(tmp_path / "dist.jpg", stored, orientation=8)
    upright = np.rot90(np.array(Image.open(path).convert("RGB")), k=1)  # 8: turn 90 degrees anticlockwise
    reference = rng.integers(0, 256, upright.shape, dtype=np.uint8)
    scorer = Scorer(model_path)
    assert scorer.score_pair(reference, path) == scorer.score_pair(reference, upright)


# ---------------------------------------------------------------- 10: byte-order marks
def test_pairs_csv_and_dataset_csv_with_a_byte_order_mark(model_path, tmp_path, rng, capsys):
    from iqa_keras.data import read_dataset

    ref, dist = _pipal_pair(tmp_path, rng)
    (tmp_path / "pairs.csv").write_text(f"ref,distorted\n{ref},{dist}\n", encoding="utf-8-sig")
    assert (tmp_path / "pairs.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    assert cli_main(["score", "--pairs", str(tmp_path / "pairs.csv"), "--models", str(model_path)]) == 0
    assert capsys.readouterr().out.startswith("ref,distorted,score\n")
    csv_path = _pairs_csv(tmp_path / "set", rng, rows=2)
    csv_path.write_text(csv_path.read_text(), encoding="utf-8-sig")
    assert read_dataset("csv", csv_path)["mos"].tolist() == [1.0, 1.5]


# ---------------------------------------------------------------- 11: resuming with the flags in another order
def test_resume_accepts_the_same_set_flags_in_another_order(finished_run, demo_config, caplog):
    from iqa_keras.training import train

    with pytest.raises(ConfigError, match="a run of a different config"):
        train(load_config(demo_config, ["train.seed=4", "train.batch_size=8"]), finished_run)
    with caplog.at_level(logging.INFO, logger="iqa_keras"):
        train(load_config(demo_config, ["train.batch_size=8", "train.seed=3"]), finished_run)
    assert "Run already complete" in caplog.text


# ---------------------------------------------------------------- 12: no preparation step any more
def test_there_is_no_prepare_command_and_no_hdf5_store(capsys):
    import importlib.util

    with pytest.raises(SystemExit) as exit_:
        cli_main(["prepare", "x"])
    assert exit_.value.code == 2 and "invalid choice: 'prepare'" in capsys.readouterr().err
    assert importlib.util.find_spec("iqa_keras.data.stores") is None
    assert importlib.util.find_spec("iqa_keras.data.prepare") is None


# ---------------------------------------------------------------- 13: record errors name file and line
def test_record_errors_name_the_label_file_and_its_line(tmp_path, rng):
    from iqa_keras.data import read_dataset, validate_records

    csv_path = _pairs_csv(tmp_path, rng, rows=10)
    lines = csv_path.read_text().splitlines()
    lines.insert(3, "")  # a blank line: the file's line numbers and the table's row numbers now differ by 2
    lines[-1] = lines[-1].replace("dist/c9_1.png", "dist/gone.png")
    csv_path.write_text("\n".join(lines) + "\n")
    records = read_dataset("csv", csv_path)
    with pytest.raises(ValueError) as error:
        validate_records(records)
    assert str(error.value) == (f"invalid record: {csv_path}:12: dist image {tmp_path / 'dist' / 'gone.png'}: "
                                "file not found")


# ---------------------------------------------------------------- 14: memory of a large pair
def test_scoring_memory_does_not_grow_with_the_patch_count(model_path, rng):
    """Numpy memory while scoring stays near the two images: patches are cut a batch at a time."""
    from iqa_keras import Scorer
    from iqa_keras.scoring import patch_grid

    ref = rng.integers(0, 256, (720, 960, 3), dtype=np.uint8)
    dist = rng.integers(0, 256, (720, 960, 3), dtype=np.uint8)
    scorer = Scorer(model_path, batch_size=8)
    scorer.score_pair(ref[:SIZE, :SIZE], dist[:SIZE, :SIZE])  # trace the graph outside the measurement
    grid = patch_grid(720, 960, SIZE)
    all_patches = 2 * grid.count * SIZE * SIZE * 3  # what cutting every patch at once would take
    assert all_patches > 3 * ref.nbytes
    tracemalloc.start()
    try:
        score = scorer.score_pair(ref, dist)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert math.isfinite(score)
    assert peak < ref.nbytes, (peak, all_patches)  # the images exist already; only batches are new


# ---------------------------------------------------------------- 15: NaN targets and losses
def test_every_loss_refuses_nan_targets():
    from iqa_keras import losses
    from iqa_keras.registry import LOSSES

    scores = np.linspace(1.0, 3.0, 16, dtype=np.float32)[:, None]
    histograms = np.full((16, 10), 0.1, np.float32)
    for name in LOSSES.names():
        options = {"datasets": ["a", "b"]} if name == "bias_aware" else {}
        loss = losses.get(name, **options)
        targets = (histograms if name in ("emd", "chi_square", "moments_mse", "nima") else scores).copy()
        assert np.isfinite(float(loss(targets, targets.copy()))), name
        targets[3, 0] = np.nan
        with pytest.raises(ValueError, match=f"loss {loss.name}: the targets .* NaN or infinite"):
            loss(targets, np.nan_to_num(targets))


def test_training_stops_on_a_non_finite_loss_and_stays_resumable(demo_config, tmp_path, capsys):
    """Epoch 1 trains; epoch 2's learning rate (decay factor 1e30) makes the loss non-finite at once."""
    import h5py

    from iqa_keras import load_model
    from iqa_keras.training.callbacks import read_history

    run_dir = tmp_path / "run"
    flags = ["--set", "train.epochs=3", "--set", "optimizer.decay_every=1", "--set", "optimizer.decay_factor=1e30",
             "--set", "optimizer.learning_rate=1e-3"]
    assert cli_main(["train", str(demo_config), "--out", str(run_dir), *flags]) == 1
    line = _error_line(capsys)
    assert "the loss became" in line and "in epoch 2" in line and "keeps its state after epoch 1" in line
    assert json.loads((run_dir / "state.json").read_text())["epochs_done"] == 1
    assert [row["epoch"] for row in read_history(run_dir / "history.csv")] == [0]
    assert all(np.isfinite(w).all() for w in load_model(run_dir / "best.keras").get_weights())
    saved = []
    with h5py.File(run_dir / "last.weights.h5", "r") as weights:
        weights.visititems(lambda name, item: saved.append(item[()]) if isinstance(item, h5py.Dataset) else None)
    assert saved and all(np.isfinite(np.asarray(v, dtype=np.float64)).all() for v in saved)
    assert cli_main(["train", str(demo_config), "--out", str(run_dir), *flags]) == 1  # resumes from epoch 1
    out = capsys.readouterr()
    assert "Resuming after epoch 1 of 3" in out.err and "in epoch 2" in out.err


# ---------------------------------------------------------------- 16: models with several outputs
def test_scorer_refuses_a_model_with_two_outputs(tmp_path):
    import keras

    from iqa_keras import Scorer, save_model

    ref, dist = keras.Input((SIZE, SIZE, 3)), keras.Input((SIZE, SIZE, 3))
    pooled = keras.layers.GlobalAveragePooling2D()(keras.layers.Subtract()([ref, dist]))
    model = keras.Model([ref, dist], [keras.layers.Dense(1)(pooled), keras.layers.Dense(1)(pooled)], name="two")
    save_model(model, tmp_path / "two.keras")
    with pytest.raises(ValueError, match=r"model two\.keras has 2 outputs; the Scorer needs a model with one output"):
        Scorer(tmp_path / "two.keras")
    wide = keras.Model([ref, dist], keras.layers.Dense(3)(pooled), name="wide")
    with pytest.raises(ValueError, match=r"outputs shape \(None, 3\); expected one score per sample"):
        Scorer(wide)


# ---------------------------------------------------------------- 17: no leftovers
def test_a_config_or_data_error_leaves_no_run_folder(demo_config, tmp_path, capsys):
    run_dir = tmp_path / "run"
    assert cli_main(["train", str(demo_config), "--out", str(run_dir),
                     "--set", 'train.initial_weights="no/such/model.keras"']) == 2
    assert "train.initial_weights: no model file" in _error_line(capsys)
    assert not run_dir.exists()


def test_temporary_files_of_a_killed_save_are_removed_on_the_next_run(finished_run, demo_config, caplog):
    from iqa_keras.training import train

    stale = [finished_run / ".tmp-k1ll3d.keras", finished_run / "plots" / ".tmp-half.png"]
    for path in stale:
        path.write_bytes(b"half")
    with caplog.at_level(logging.INFO, logger="iqa_keras"):
        train(load_config(demo_config, ["train.seed=3", "train.batch_size=8"]), finished_run)
    assert not any(path.exists() for path in stale)
    assert "left by an interrupted save" in caplog.text


# ---------------------------------------------------------------- 18: units of the per-epoch RMSE
def test_per_epoch_val_rmse_is_in_mos_units_like_metrics_json(finished_run):
    with open(finished_run / "history.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    metrics = json.loads((finished_run / "metrics.json").read_text())
    assert metrics["best_epoch"] == 1 and len(rows) == 1
    assert float(rows[0]["val_rmse"]) == pytest.approx(metrics["val"]["rmse"], rel=1e-4)
