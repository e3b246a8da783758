"""``iqa-keras score --metric``: classical metrics through the same pairing and outputs as model scoring."""
import json

import numpy as np
from skimage.metrics import structural_similarity

from iqa_keras.cli import main as cli_main
from tests.helpers import random_image, write_image


def _pairs(tmp_path, rng):
    """Two PIPAL-named pairs: a noisy copy and a darker copy of random references."""
    pairs = []
    for index in (1, 2):
        ref = random_image(rng, (40, 48))
        dist = np.clip(ref.astype(int) + (rng.integers(-20, 21, ref.shape) if index == 1 else -30), 0, 255)
        ref_path = write_image(tmp_path / "ref" / f"A000{index}.bmp", ref)
        dist_path = write_image(tmp_path / "dist" / f"A000{index}_00_00.bmp", dist.astype(np.uint8))
        pairs.append((ref_path, dist_path, ref, dist.astype(np.uint8)))
    return pairs


def _hand_psnr(ref, dist) -> float:
    mse = np.mean((ref.astype(np.float64) - dist.astype(np.float64)) ** 2)
    return 10 * np.log10(255.0 ** 2 / mse)


def test_psnr_of_given_pairs_matches_a_hand_computation(tmp_path, rng, capsys):
    pairs = _pairs(tmp_path, rng)
    args = ["score", "--metric", "psnr"]
    for ref, dist, _, _ in pairs:
        args += ["--ref", ref, "--distorted", dist]
    assert cli_main(args) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "ref,distorted,score"
    scores = [float(line.rsplit(",", 1)[1]) for line in lines[1:]]
    np.testing.assert_allclose(scores, [_hand_psnr(r, d) for _, _, r, d in pairs], rtol=1e-5)


def test_folders_and_json_output_carry_the_metric_and_its_direction(tmp_path, rng):
    _pairs(tmp_path, rng)
    out = tmp_path / "scores.json"
    assert cli_main(["score", "--metric", "gmsd", "--ref-dir", str(tmp_path / "ref"), "--dist-dir",
                     str(tmp_path / "dist"), "--output", str(out)]) == 0
    data = json.loads(out.read_text())
    assert data["models"] == ["metric:gmsd"] and data["higher_is_better"] is False
    assert len(data["scores"]) == 2 and all(row["score"] > 0 for row in data["scores"])


def test_ssim_without_downsampling_size_matches_scikit_image(tmp_path, rng, capsys):
    # 40 x 48 images: Wang's downsampling factor is 1, so the package's SSIM is plain SSIM on luma
    ref, dist = _pairs(tmp_path, rng)[0][:2]
    assert cli_main(["score", "--metric", "ssim", "--ref", ref, "--distorted", dist]) == 0
    score = float(capsys.readouterr().out.splitlines()[1].rsplit(",", 1)[1])
    from PIL import Image

    def luma(path):
        rgb = np.asarray(Image.open(path).convert("RGB"), dtype=np.float64)
        return rgb @ np.array([0.2989, 0.5870, 0.1140])

    expected = structural_similarity(luma(ref), luma(dist), gaussian_weights=True, sigma=1.5,
                                     use_sample_covariance=False, data_range=255)
    assert abs(score - expected) < 1e-3


def test_bad_metric_use_is_one_line(tmp_path, rng, capsys):
    ref, dist = _pairs(tmp_path, rng)[0][:2]
    assert cli_main(["score", "--metric", "ssimm", "--ref", ref, "--distorted", dist]) == 2
    assert "unknown full-reference metric 'ssimm'" in capsys.readouterr().err
    assert cli_main(["score", "--metric", "psnr", "--models", "x.keras", "--ref", ref, "--distorted", dist]) == 2
    assert "--metric" in capsys.readouterr().err
    small = write_image(tmp_path / "small.png", random_image(rng, (40, 40)))
    assert cli_main(["score", "--metric", "psnr", "--ref", ref, "--distorted", small]) == 2
    assert "equal sizes" in capsys.readouterr().err
