"""No-reference scoring (`iqa-keras score --nima`, `jpeg-check`, the Scorer) on a tiny untrained NIMA model."""
import csv
import json

import numpy as np
import pytest
from PIL import Image
from scipy import stats
from scipy.spatial import distance

from helpers import write_image, write_random_image

SCORES = np.arange(1, 11)


@pytest.fixture(scope="module")
def nima_file(tmp_path_factory):
    import keras

    from iqa_keras import build_model, save_model
    from iqa_keras.scales import dataset_scale

    keras.utils.set_random_seed(0)
    # Random weights; one training-mode pass with BN momentum 0 sets the moving statistics to that
    # batch's, so features (and scores) differ between images instead of vanishing.
    model = build_model("nima", input_size=32, alpha=0.35, bn_momentum=0.0)
    model(np.random.default_rng(0).uniform(0, 255, (8, 32, 32, 3)).astype("float32"), training=True)
    info = model.iqa_info
    info.score_mean, info.score_std = dataset_scale("embedded").denormalize_coefficients
    info.score_range = [1.0, 5.0]
    path = tmp_path_factory.mktemp("model") / "nima.keras"
    save_model(model, path, info)
    return path


@pytest.fixture(scope="module")
def image_folder(tmp_path_factory):
    rng = np.random.default_rng(5)
    folder = tmp_path_factory.mktemp("images")
    y, x = np.mgrid[0:32, 0:48]
    for index in range(2):
        smooth = np.stack([(x * 5 + index * 40) % 256, (y * 7) % 256, ((x + y) * 3) % 256], axis=-1)
        noisy = np.clip(smooth + rng.normal(0, 20, smooth.shape), 0, 255)
        write_image(folder / f"img{index}.png", noisy)
    return folder


def _run(argv):
    from iqa_keras.cli import main

    return main([str(a) for a in argv])


def test_score_nima_rows_per_image(tmp_path, nima_file, image_folder):
    from iqa_keras import load_model

    out = tmp_path / "scores.csv"
    assert _run(["score", "--nima", "--models", nima_file, "--image", image_folder, "--mode", "center",
                 "--output", out]) == 0
    with open(out, newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["image"].endswith(f"img{i}.png") for i, r in enumerate(rows)] == [True, True]
    model = load_model(nima_file)
    for row in rows:
        hist = np.array([float(row[f"hist_{i}"]) for i in range(1, 11)])
        assert hist.sum() == pytest.approx(1.0, abs=1e-6)
        mean = float(hist @ SCORES)
        assert float(row["mean"]) == pytest.approx(mean, abs=1e-9)
        assert float(row["std"]) == pytest.approx(np.sqrt(hist @ (SCORES - mean) ** 2), abs=1e-9)
        assert float(row["score"]) == pytest.approx(1 + (mean - 1) * 4 / 9, abs=1e-9)  # bins -> the 1..5 scale
        # centre mode: the model's output on the central 32 x 32 crop
        image = np.asarray(Image.open(row["image"]).convert("RGB"), dtype=np.float32)[:, 8:40][None]
        np.testing.assert_allclose(hist, np.asarray(model.predict_on_batch(image))[0], atol=1e-5)


def test_score_nima_pairs_give_the_feature_distance(tmp_path, nima_file, image_folder):
    from iqa_keras.scoring import Scorer, cosine_distance

    a, b = image_folder / "img0.png", image_folder / "img1.png"
    out = tmp_path / "pairs.json"
    assert _run(["score", "--nima", "--models", nima_file, "--ref", a, "--distorted", a, "--ref", a,
                 "--distorted", b, "--output", out]) == 0
    result = json.loads(out.read_text())
    assert result["feature_layer"] == "pooled" and result["kind"] == "nima"
    same, different = result["scores"]
    assert same["feature_cosine_distance"] == pytest.approx(0.0, abs=1e-6)
    scorer = Scorer(nima_file, stride=32)  # what `score --nima` uses: non-overlapping patches of the input size
    _, features_a = scorer.outputs(str(a))
    _, features_b = scorer.outputs(str(b))
    assert different["feature_cosine_distance"] == pytest.approx(distance.cosine(features_a, features_b), abs=1e-9)
    assert cosine_distance([1, 0], [0, 2]) == pytest.approx(1.0)


def test_jpeg_check_spearman_per_image(tmp_path, nima_file, image_folder):
    out, figure = tmp_path / "check.json", tmp_path / "check.png"
    assert _run(["jpeg-check", image_folder, "--models", nima_file, "--qualities", "90,60,30",
                 "--output", out, "--figure", figure]) == 0
    result = json.loads(out.read_text())
    assert result["qualities"] == [90, 60, 30] and len(result["images"]) == 2 and figure.is_file()
    values = []
    for row in result["images"]:
        scores = [row[f"score_q{q}"] for q in (90, 60, 30)]
        expected = stats.spearmanr([90, 60, 30], scores)[0]
        if np.isnan(expected):
            assert row["srcc_score"] is None
        else:
            assert row["srcc_score"] == pytest.approx(expected, abs=1e-12)
            values.append(expected)
    assert values, "the test model should give varying scores"
    assert result["mean_srcc_score"] == pytest.approx(np.mean(values))


def test_nima_scoring_input_errors(tmp_path, nima_file, capsys):
    assert _run(["score", "--nima", "--image", tmp_path]) == 2  # an empty folder
    assert "no image files" in capsys.readouterr().err
    image = write_random_image(tmp_path / "one" / "a.png", np.random.default_rng(0))
    assert _run(["score", "--nima", "--image", image]) == 2  # an image, but no --models
    assert "--models" in capsys.readouterr().err
    assert _run(["score", "--nima", "--models", nima_file, "--image", tmp_path / "none.png"]) == 2
    assert "not found" in capsys.readouterr().err
    assert _run(["jpeg-check", tmp_path, "--models", nima_file, "--qualities", "90,abc"]) == 2
    assert "--qualities" in capsys.readouterr().err
