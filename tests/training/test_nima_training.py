"""NIMA through `iqa-keras train`: histogram targets, frozen first phase, two rates, NIMA metrics.json."""
import csv
import json

import numpy as np
import pytest
from scipy import stats

from helpers import CONFIGS, tiny_config, write_config, write_random_image


def _sections(cache, architecture="nima", loss="nima", **changes):
    """A tiny NIMA run: MobileNetV2 x 0.35 at 32 px, frozen first epoch, two learning rates.

    Another architecture gets neither the backbone options nor the two rates; ``loss=None``: no [loss] section.
    """
    nima = architecture.startswith("nima")
    sections = tiny_config(
        cache, loss={"name": loss} if loss else None,
        optimizer={"learning_rate": 1e-3, **({"backbone_learning_rate": 3e-3} if nima else {})},
        train={"steps_per_epoch": 3, **({"freeze_backbone_epochs": 1} if nima else {})},
        nima={"targets": "max_entropy", **changes.pop("nima", {})}, **changes)
    sections["model"] = {"architecture": architecture, "input_size": 32,
                         **({"alpha": 0.35, "bn_momentum": 0.9} if nima else {})}
    return sections


def _config(tmp_path, cache, architecture="nima", loss="nima", **changes):
    from iqa_keras.config import load_config

    return load_config(write_config(tmp_path / f"{architecture}.toml", _sections(cache, architecture, loss, **changes)))


def test_nima_run_folder_metrics_and_schedule(tmp_path, embedded_cache):
    from iqa_keras import load_model
    from iqa_keras.data.histogram_targets import HISTOGRAM_COLUMNS
    from iqa_keras.training import task_for
    from iqa_keras.training import make_pipelines, prepare_data, train

    config = _config(tmp_path, embedded_cache)
    run_dir = train(config, tmp_path / "run")
    assert (run_dir / "plots" / "nima_distributions_val.png").is_file()
    metrics = json.loads((run_dir / "metrics.json").read_text())
    val = metrics["val"]
    report = val["nima"]
    assert report["n"] == val["n"]
    assert np.shape(report["confusion_matrix"]) == (10, 10)
    assert report["targets"] == {"embedded": "max_entropy"} and report["threshold"] == 5.0
    assert {"emd_r1", "emd_r2", "binary_accuracy", "mean", "std"} <= set(report)

    with open(run_dir / "history.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert float(rows[0]["backbone_lr"]) == 0.0  # frozen first epoch
    assert float(rows[1]["backbone_lr"]) == pytest.approx(3e-3)
    assert float(rows[1]["lr"]) == pytest.approx(1e-3)

    best = load_model(run_dir / "best.keras")
    info = best.iqa_info
    assert info.kind == "nima" and info.score_range == [1.0, 5.0] and info.higher_is_better
    assert info.denormalize(1.0) == pytest.approx(1.0) and info.denormalize(10.0) == pytest.approx(5.0)

    data = task_for(config).prepare(prepare_data(config))
    assert data.kind == "nr" and (data.records["val"]["ref"] == "").all()
    mos = data.records["val"]["mos"].to_numpy()
    assert report["n"] == np.sum(report["confusion_matrix"]) == len(mos)  # one count per validation image
    targets = data.records["val"][list(HISTOGRAM_COLUMNS)].to_numpy()
    np.testing.assert_allclose(targets @ np.arange(1, 11), 1 + (mos - 1) * 9 / 4, atol=1e-6)
    images, y = next(iter(make_pipelines(config, data)["train"]))
    assert tuple(images.shape[1:]) == (32, 32, 3) and tuple(y.shape[1:]) == (10,)


class _FixedModel:
    """Stands in for a trained model: returns given histograms."""

    def __init__(self, histograms):
        self.histograms = histograms

    def predict(self, dataset, verbose=0):
        return self.histograms

    def predict_on_batch(self, inputs):
        return self.histograms[self.offset:self.offset + len(inputs)]


def test_nima_evaluation_and_epoch_metrics_use_the_mean_score(tmp_path, embedded_cache, rng):
    import tensorflow as tf

    from iqa_keras.metrics import EpochMetrics
    from iqa_keras.data.histogram_targets import HISTOGRAM_COLUMNS
    from iqa_keras.training import task_for
    from iqa_keras.training import prepare_data

    config = _config(tmp_path, embedded_cache)
    setup = task_for(config)
    data = setup.prepare(prepare_data(config))
    val = data.records["val"]
    predicted = rng.dirichlet(np.ones(10), len(val))
    pred_mean = predicted @ np.arange(1, 11)
    mos = val["mos"].to_numpy()
    results = setup.evaluate(_FixedModel(predicted), data, {"val": None}, tmp_path)
    assert results["val"]["srcc"] == pytest.approx(stats.spearmanr(pred_mean, mos)[0], abs=1e-12)
    assert results["val"]["plcc"] == pytest.approx(stats.pearsonr(pred_mean, mos)[0], abs=1e-12)
    # RMSE on the embedded 1..5 scale: bins map back with mos = 1 + (mean - 1) * 4 / 9
    assert results["val"]["rmse"] == pytest.approx(np.sqrt(np.mean((1 + (pred_mean - 1) * 4 / 9 - mos) ** 2)))
    # the report's mean-score SRCC: scipy's, against the targets' means (a monotone map of the MOS)
    assert results["val"]["nima"]["mean"]["srcc"] == pytest.approx(stats.spearmanr(pred_mean, mos)[0], abs=1e-12)
    assert (tmp_path / "plots" / "nima_distributions_val.png").is_file()

    # the epoch callback: val_srcc / val_main on the predicted mean score
    targets = val[list(HISTOGRAM_COLUMNS)].to_numpy(dtype="float32")
    dataset = tf.data.Dataset.from_tensor_slices((np.zeros((len(val), 1), "float32"), targets)).batch(len(val))
    model = _FixedModel(predicted)
    model.offset = 0
    callback = EpochMetrics(dataset, prefix="val", **setup.epoch_metrics_options(data))
    callback.set_model(model)
    logs = {}
    callback.on_epoch_end(0, logs)
    srcc = stats.spearmanr(pred_mean, mos)[0]
    plcc = stats.pearsonr(pred_mean, mos)[0]
    assert logs["val_srcc"] == pytest.approx(srcc, abs=1e-6) and logs["val_main"] == pytest.approx(srcc + plcc, abs=1e-5)
    np.testing.assert_allclose(callback.last_targets, mos, atol=1e-5)


def test_regression_variant_drops_references_and_keeps_the_mos(tmp_path, embedded_cache):
    from iqa_keras.training import task_for
    from iqa_keras.training import make_pipelines, prepare_data

    config = _config(tmp_path, embedded_cache, architecture="nima_regression", loss="mse")
    setup = task_for(config)
    data = setup.prepare(prepare_data(config))
    options = setup.epoch_metrics_options(data)
    assert type(setup).__name__ == "ScoreTask" and set(options) == {"denormalize"}  # one dataset: MOS units
    mean, std = data.score_norm[config.labels[0]]
    assert options["denormalize"](np.array([0.0, 1.0])) == pytest.approx([mean, mean + std])
    assert data.target_columns is None and data.kind == "nr" and (data.records["val"]["ref"] == "").all()
    images, y = next(iter(make_pipelines(config, data)["val"]))
    assert tuple(images.shape[1:]) == (32, 32, 3) and tuple(y.shape[1:]) == (1,)


def test_other_architectures_are_left_alone(tmp_path, embedded_cache):
    from iqa_keras.training import task_for
    from iqa_keras.training import prepare_data

    config = _config(tmp_path, embedded_cache, architecture="fr_simple", loss="mse")
    setup = task_for(config)
    data = setup.prepare(prepare_data(config))
    assert type(setup).__name__ == "ScoreTask" and data.kind == "fr" and data.target_columns is None


def test_nima_config_errors(tmp_path, embedded_cache):
    from iqa_keras.config import ConfigError

    with pytest.raises(ConfigError, match="nima.targets"):
        _config(tmp_path, embedded_cache, nima={"targets": "histogram"})
    with pytest.raises(ConfigError, match="nima.ranges"):  # caught by load_config, before any work
        _config(tmp_path, embedded_cache, nima={"ranges": {"kadid": [1, 5]}})


def _fake_tid2013(root, rng):

    (root / "reference_images").mkdir(parents=True)
    (root / "distorted_images").mkdir()
    names = []
    for content in range(1, 6):
        write_random_image(root / "reference_images" / f"I{content:02d}.BMP", rng, (24, 24))
        for distortion in (1, 2):
            name = f"i{content:02d}_{distortion:02d}_1.bmp"
            write_random_image(root / "distorted_images" / name, rng, (24, 24))
            names.append(name)
    mos = np.linspace(0.0, 9.0, len(names))
    (root / "mos_with_names.txt").write_text("".join(f"{m:.5f} {n}\n" for m, n in zip(mos, names)))
    (root / "mos_std.txt").write_text("".join(f"{s:.5f}\n" for s in np.full(len(names), 0.15)))
    return dict(zip(names, mos))


def _fake_ava(root, rng):

    (root / "images").mkdir(parents=True)
    lines, votes = [], {}
    for index in range(20):
        image_id = 1000 + index
        counts = rng.integers(0, 20, 10)
        votes[image_id] = counts
        write_random_image(root / "images" / f"{image_id}.jpg", rng, (20, 30))
        lines.append(f"{index + 1} {image_id} " + " ".join(map(str, counts)) + " 0 0 1\n")
    (root / "AVA.txt").write_text("".join(lines))
    return votes


def test_shipped_nima_configs_build_their_targets(tmp_path, rng):
    """configs/nima_tid2013.toml and nima_ava.toml on tiny fake dataset folders: the data side only."""
    from pathlib import Path

    from iqa_keras.config import load_config
    from iqa_keras.data.histogram_targets import HISTOGRAM_COLUMNS
    from iqa_keras.training import task_for
    from iqa_keras.training import prepare_data

    configs = CONFIGS
    mos = _fake_tid2013(tmp_path / "tid", rng)
    config = load_config(configs / "nima_tid2013.toml", [f"data.datasets.0.root={tmp_path / 'tid'}"])
    setup = task_for(config)
    data = setup.prepare(prepare_data(config))
    assert setup.modes == {"tid2013": "max_entropy"}
    for records in data.records.values():
        assert (records["ref"] == "").all()
        means = records[list(HISTOGRAM_COLUMNS)].to_numpy() @ np.arange(1, 11)
        expected = np.array([mos[Path(p).name] for p in records["dist"]]) + 1.0  # MOS 0..9 -> bins 1..10
        np.testing.assert_allclose(means, expected, atol=1e-6)

    votes = _fake_ava(tmp_path / "ava", rng)
    config = load_config(configs / "nima_ava.toml", [f"data.datasets.0.root={tmp_path / 'ava'}"])
    setup = task_for(config)
    data = setup.prepare(prepare_data(config))
    assert setup.modes == {"ava": "votes"}
    for records in data.records.values():
        for _, row in records.iterrows():
            counts = votes[int(Path(row["dist"]).stem)]
            np.testing.assert_allclose(row[list(HISTOGRAM_COLUMNS)].to_numpy(float), counts / counts.sum())


@pytest.mark.slow
def test_demo_nima_reaches_srcc_0_7_on_held_out_contents(tmp_path):
    """configs/demo_nima.toml (about 11 CPU-minutes): validation SRCC >= 0.7 on the two held-out photos."""

    from iqa_keras.config import load_config
    from iqa_keras.training import train

    config = load_config(CONFIGS / "demo_nima.toml")
    run_dir = train(config, tmp_path / "demo_nima")
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["val"]["srcc"] >= 0.7, metrics["val"]


def test_histogram_head_needs_a_histogram_loss(tmp_path, embedded_cache):
    from iqa_keras.config import ConfigError, load_config

    with pytest.raises(ConfigError, match="loss.name"):  # caught by load_config, before any work
        _config(tmp_path, embedded_cache, loss="mse")
    config = load_config(write_config(tmp_path / "no_loss.toml", _sections(embedded_cache, loss=None)))
    assert config.loss.name == "nima" and config.loss.options == {}  # EMD r = 2 by default


def test_reference_nima_configs_build_their_data(tmp_path, rng):
    """configs/reference/nima_*: idealo's AVA lists and resize-then-crop, TID2013's first 3 references held out."""
    from pathlib import Path

    from iqa_keras.config import load_config
    from iqa_keras.training import make_pipelines, prepare_data, task_for

    reference = CONFIGS / "reference"
    _fake_tid2013(tmp_path / "tid", rng)
    config = load_config(reference / "nima_tid2013_regression.toml", [f"data.datasets.0.root={tmp_path / 'tid'}"])
    data = task_for(config).prepare(prepare_data(config))
    assert sorted(set(data.records["val"]["content"])) == ["tid:i01", "tid:i02", "tid:i03"]
    assert sorted(set(data.records["train"]["content"])) == ["tid:i04", "tid:i05"]

    _fake_ava(tmp_path / "ava", rng)
    train_ids, test_ids = list(range(1000, 1014)), list(range(1014, 1018))  # 1018, 1019 in no list
    for name, ids in (("ava_labels_train.json", train_ids), ("ava_labels_test.json", test_ids)):
        (tmp_path / "ava" / name).write_text(json.dumps([{"image_id": str(i), "label": [1] * 10} for i in ids]))
    config = load_config(reference / "nima_ava_vanilla.toml", [f"data.datasets.0.root={tmp_path / 'ava'}"])
    data = task_for(config).prepare(prepare_data(config))
    assert sorted(int(Path(p).stem) for p in data.records["train"]["dist"]) == train_ids
    assert sorted(int(Path(p).stem) for p in data.records["val"]["dist"]) == test_ids
    assert (data.records["train"]["resize"] == 256).all()
    images, histograms = next(iter(make_pipelines(config, data)["train"]))
    assert images.shape[1:] == (224, 224, 3) and histograms.shape[1:] == (10,)
    # 20 x 30 images resized to 256 x 256 first: no zero padding (without resize 99% of a crop would be).
    assert (np.asarray(images) == 0).mean() < 0.05


@pytest.mark.slow  # about 30 s of training
def test_phases_give_the_frozen_epoch_its_own_rate(tmp_path, embedded_cache):
    """optimizer.phases: the frozen first epoch at 1e-3, then 1e-4 (the backbone at 3x the head's rate)."""
    from iqa_keras.training import train

    from iqa_keras.config import load_config

    sections = _sections(embedded_cache)
    sections["optimizer"]["phases"] = [{"epochs": 1, "learning_rate": 1e-3}, {"epochs": 1, "learning_rate": 1e-4}]
    config = load_config(write_config(tmp_path / "phases.toml", sections))
    run_dir = train(config, tmp_path / "run")
    with open(run_dir / "history.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [float(r["lr"]) for r in rows] == pytest.approx([1e-3, 1e-4])
    assert [float(r["backbone_lr"]) for r in rows] == pytest.approx([0.0, 3e-4])
    report = json.loads((run_dir / "metrics.json").read_text())["val"]["nima"]
    assert report["std_of_score_differences"] >= 0.0
