"""evaluation_single_image.py, evaluation_ntire.py and `iqa-keras score` against the Scorer API."""
import json
import os
import re
import runpy
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from helpers import write_image
import iqa_keras.scoring.scorer
from iqa_keras import build_model, save_model
from iqa_keras.cli import evaluation_ntire, evaluation_single_image
from iqa_keras.cli import main as cli_main
from iqa_keras.scoring.scorer import Scorer

REPO = Path(__file__).resolve().parents[2]
SIZE = 32
LINE = re.compile(r"^(A\d{4}_\d{2}_\d{2}\.bmp),(-?\d+\.\d+(?:e[-+]\d+)?)$")


@pytest.fixture(scope="module")
def model_path(tmp_path_factory):
    model = build_model("fr_simple", input_size=SIZE, dense_num=8)
    model.iqa_info.score_mean, model.iqa_info.score_std = 1449.05, 121.35
    path = tmp_path_factory.mktemp("models") / "fr_simple_32.keras"
    save_model(model, path)
    return path


def _write_pipal_folder(root: Path, refs=(1, 2, 10), dists=((0, 0), (0, 3), (1, 0)), shape=(40, 48, 3), seed=0):
    rng = np.random.default_rng(seed)
    (root / "ref").mkdir(parents=True, exist_ok=True)
    (root / "dist").mkdir(exist_ok=True)
    names = []
    for r in refs:
        ref = rng.integers(0, 256, shape, dtype=np.uint8)
        write_image(root / "ref" / f"A{r:04d}.bmp", ref)
        for kind, index in dists:
            noisy = np.clip(ref.astype(int) + rng.integers(-40, 40, shape), 0, 255).astype(np.uint8)
            name = f"A{r:04d}_{kind:02d}_{index:02d}.bmp"
            write_image(root / "dist" / name, noisy)
            names.append(name)
    return names


def _read_output(path: Path) -> list[tuple[str, float]]:
    lines = path.read_text().splitlines()
    parsed = [LINE.match(line) for line in lines]
    assert all(parsed), f"malformed line(s): {[l for l, m in zip(lines, parsed) if not m]}"
    return [(m.group(1), float(m.group(2))) for m in parsed]


def test_api_and_both_scripts_give_the_same_score(model_path, tmp_path, capsys):
    _write_pipal_folder(tmp_path, refs=(1,), dists=((0, 0),))
    ref, dist = tmp_path / "ref" / "A0001.bmp", tmp_path / "dist" / "A0001_00_00.bmp"
    api = Scorer(model_path, tta="ntire").score_pair(ref, dist)

    assert evaluation_single_image(["--ref", str(ref), "--distorted", str(dist), "--models", str(model_path),
                                    "--tta", "ntire"]) == 0
    printed = float(re.search(r"Image Quality Score:\s+(\S+)", capsys.readouterr().out).group(1))

    out = tmp_path / "output.txt"
    assert evaluation_ntire(["--ref-dir", str(tmp_path / "ref"), "--dist-dir", str(tmp_path / "dist"),
                             "--models", str(model_path), "--tta", "ntire", "--output", str(out)]) == 0
    [(name, written)] = _read_output(out)
    assert name == "A0001_00_00.bmp"
    assert printed == pytest.approx(api, rel=1e-6) and written == pytest.approx(api, rel=1e-6)


def test_ntire_folder_output_names_order_format_and_zip(model_path, tmp_path):
    names = _write_pipal_folder(tmp_path)
    out, sub = tmp_path / "out" / "output.txt", tmp_path / "submission.zip"
    assert evaluation_ntire(["--ref-dir", str(tmp_path / "ref"), "--dist-dir", str(tmp_path / "dist"),
                             "--models", str(model_path), "--tta", "none", "--output", str(out),
                             "--zip", str(sub)]) == 0
    rows = _read_output(out)
    # the seed's order: reference number, then distortion type, then index (numbers, not text: A0010 last)
    expected_order = sorted(names, key=lambda n: tuple(int(p.lstrip("A")) for p in n[:-4].split("_")))
    assert [name for name, _ in rows] == expected_order
    assert expected_order[-1].startswith("A0010")
    pairs = [(tmp_path / "ref" / (n.split("_")[0] + ".bmp"), tmp_path / "dist" / n) for n in expected_order]
    assert np.allclose([s for _, s in rows], Scorer(model_path).score_pairs(pairs), rtol=1e-6)
    with zipfile.ZipFile(sub) as archive:
        assert sorted(archive.namelist()) == ["output.txt", "readme.txt"]
        assert archive.read("output.txt").decode() == out.read_text()
        readme = archive.read("readme.txt").decode().splitlines()
    assert len(readme) == 4
    assert re.fullmatch(r"runtime per image \[s\] : \d+\.\d+", readme[0])
    assert readme[1] in ("CPU[1] / GPU[0] : 1", "CPU[1] / GPU[0] : 0")
    assert readme[2] == "Extra Data [1] / No Extra Data [0] : 1"  # trained_on not recorded: cannot claim none
    assert readme[3].startswith("Other description : ")


def test_run_failing_half_way_leaves_no_output(model_path, tmp_path, monkeypatch, capsys):
    _write_pipal_folder(tmp_path)
    original = Scorer._run_full_batches
    calls = []

    def fail_on_second_batch(self, *args, **kwargs):
        calls.append(1)
        if len(calls) > 1:
            raise RuntimeError("injected failure")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Scorer, "_run_full_batches", fail_on_second_batch)
    status = evaluation_ntire(["--ref-dir", str(tmp_path / "ref"), "--dist-dir", str(tmp_path / "dist"),
                               "--models", str(model_path), "--tta", "none", "--batch-size", "2",
                               "--output", str(tmp_path / "output.txt"), "--zip", str(tmp_path / "sub.zip")])
    assert status == 1 and "injected failure" in capsys.readouterr().err.splitlines()[-1]  # one line, no traceback
    assert sorted(os.listdir(tmp_path)) == ["dist", "ref"]  # no output.txt, no zip, no temporary file


def test_killed_run_leaves_no_output(model_path, tmp_path):
    _write_pipal_folder(tmp_path, refs=range(1, 11), dists=((0, 0), (0, 1), (1, 0)), shape=(64, 64, 3))
    command = [sys.executable, str(REPO / "evaluation_ntire.py"), "--ref-dir", "ref", "--dist-dir", "dist",
               "--models", str(model_path), "--tta", "ntire", "--batch-size", "1", "--workers", "1"]
    process = subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    seen = b""
    deadline = time.monotonic() + 120
    try:
        while b"] 1/30 pairs" not in seen and time.monotonic() < deadline:  # one pair scored, 29 to go
            chunk = process.stderr.readline()
            if not chunk:
                break
            seen += chunk
        assert b"] 1/30 pairs" in seen, seen.decode(errors="replace")[-2000:]
        assert b"30/30" not in seen
        process.send_signal(signal.SIGKILL)
    finally:
        process.kill()
        process.wait()
    assert not (tmp_path / "output.txt").exists()
    assert not [n for n in os.listdir(tmp_path) if n.startswith(".tmp")]


def test_script_errors_are_clear(model_path, tmp_path, capsys, monkeypatch):
    _write_pipal_folder(tmp_path, refs=(1,), dists=((0, 0),))
    write_image(tmp_path / "dist" / "A0007_00_00.bmp", np.zeros((4, 4, 3), np.uint8))
    write_image(tmp_path / "dist" / "A0009_01_02.bmp", np.zeros((4, 4, 3), np.uint8))
    base = ["--ref-dir", str(tmp_path / "ref"), "--dist-dir", str(tmp_path / "dist"), "--models", str(model_path),
            "--tta", "none", "--output", str(tmp_path / "output.txt")]

    assert evaluation_ntire(base) == 2
    err = capsys.readouterr().err
    assert "A0007_00_00.bmp" in err and "A0009_01_02.bmp" in err and "--skip-missing" in err
    assert not (tmp_path / "output.txt").exists()

    assert evaluation_ntire(base + ["--skip-missing"]) == 0
    err = capsys.readouterr().err
    assert "skipped 2" in err and "A0007_00_00.bmp" in err
    assert [n for n, _ in _read_output(tmp_path / "output.txt")] == ["A0001_00_00.bmp"]

    (tmp_path / "empty").mkdir()
    assert evaluation_ntire(["--ref-dir", str(tmp_path / "ref"), "--dist-dir", str(tmp_path / "empty"),
                             "--models", str(model_path)]) == 2
    assert "no image files" in capsys.readouterr().err

    (tmp_path / "dist" / "A0001_02_00.bmp").write_bytes(b"broken")
    assert evaluation_ntire(base + ["--skip-missing", "--output", str(tmp_path / "o2.txt")]) == 2
    assert "A0001_02_00.bmp" in capsys.readouterr().err
    assert not (tmp_path / "o2.txt").exists()

    ref = tmp_path / "ref" / "A0001.bmp"
    assert evaluation_single_image(["--ref", str(ref), "--distorted", str(tmp_path / "dist" / "A0007_00_00.bmp"),
                                    "--models", str(model_path)]) == 2
    assert re.search(r"A0001\.bmp is 48x40 .*A0007_00_00\.bmp is 4x4", capsys.readouterr().err)

    (tmp_path / "no_models").mkdir()
    monkeypatch.setattr(iqa_keras.scoring.scorer, "DEFAULT_MODELS_DIR", tmp_path / "no_models")
    assert evaluation_single_image(["--ref", str(ref), "--distorted", str(ref)]) == 2
    err = capsys.readouterr().err
    assert "no .keras model in" in err and "--models" in err


def test_score_subcommand_writes_csv_and_json(model_path, tmp_path, capsys):
    names = _write_pipal_folder(tmp_path, refs=(1, 2), dists=((0, 0),))
    pairs = [(str(tmp_path / "ref" / (n.split("_")[0] + ".bmp")), str(tmp_path / "dist" / n)) for n in names]
    expected = Scorer(model_path, tta="geometric").score_pairs(pairs)

    args = ["score", "--models", str(model_path), "--tta", "geometric"]
    for ref, dist in pairs:
        args += ["--ref", ref, "--distorted", dist]
    assert cli_main(args) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "ref,distorted,score"
    assert np.allclose([float(line.rsplit(",", 1)[1]) for line in lines[1:]], expected, rtol=1e-6)

    out = tmp_path / "scores.json"
    assert cli_main(["score", "--models", str(model_path), "--tta", "geometric", "--ref-dir", str(tmp_path / "ref"),
                     "--dist-dir", str(tmp_path / "dist"), "--output", str(out)]) == 0
    data = json.loads(out.read_text())
    assert data["tta"][0] == "identity" and len(data["tta"]) == 8
    assert [Path(row["distorted"]).name for row in data["scores"]] == names
    assert np.allclose([row["score"] for row in data["scores"]], expected, rtol=1e-6)

    assert cli_main(["score", "--models", str(model_path), "--ref", pairs[0][0]]) == 2
    assert "--distorted" in capsys.readouterr().err


def test_wrapper_script_runs_as_a_program(model_path, tmp_path, capsys, monkeypatch):
    """The top-level file run as __main__ (in this interpreter: a new one costs a TensorFlow import;
    test_killed_run_leaves_no_output starts evaluation_ntire.py as a separate process)."""
    _write_pipal_folder(tmp_path, refs=(1,), dists=((0, 0),))
    ref, dist = tmp_path / "ref" / "A0001.bmp", tmp_path / "dist" / "A0001_00_00.bmp"
    monkeypatch.setattr(sys, "argv", ["evaluation_single_image.py", "--ref", str(ref), "--distorted", str(dist),
                                      "--models", str(model_path), "--tta", "none"])
    with pytest.raises(SystemExit) as exit_info:
        runpy.run_path(str(REPO / "evaluation_single_image.py"), run_name="__main__")
    assert exit_info.value.code == 0
    printed = float(re.search(r"Image Quality Score:\s+(\S+)", capsys.readouterr().out).group(1))
    assert printed == pytest.approx(Scorer(model_path).score_pair(ref, dist), rel=1e-6)


def test_real_pipal_pair_figure_and_heatmap(shared_dir, tmp_path, capsys):
    ref, dist = shared_dir / "data" / "ntire_pair" / "ref.bmp", shared_dir / "data" / "ntire_pair" / "dist.bmp"
    if not ref.is_file() or not dist.is_file():
        pytest.skip(f"PIPAL pair not found in {ref.parent}")
    model = build_model("fr_simple", input_size=96, dense_num=8)
    save_model(model, tmp_path / "m96.keras")
    figure, heatmap = tmp_path / "result.png", tmp_path / "map.png"
    assert evaluation_single_image(["--ref", str(ref), "--distorted", str(dist), "--models",
                                    str(tmp_path / "m96.keras"), "--tta", "none", "--figure", str(figure),
                                    "--heatmap", str(heatmap)]) == 0
    captured = capsys.readouterr()
    printed = float(re.search(r"Image Quality Score:\s+(\S+)", captured.out).group(1))
    assert "25 patches of 96 px, stride 48" in captured.err  # 288 = 0, 48, ..., 192: 5 x 5
    assert printed == pytest.approx(Scorer(tmp_path / "m96.keras").score_pair(ref, dist), rel=1e-6)
    for path in (figure, heatmap):
        with Image.open(path) as image:
            assert image.format == "PNG" and image.size[0] > 300
