"""A plain (non-editable) install of the wheel into a fresh virtual environment works from any folder.

The fresh environment borrows the tested environment's dependencies through a
``.pth`` line instead of downloading them again, and pip installs with
``--no-index``: the wheel's declared dependency bounds must be met by what the
suite runs on. Every command runs from a folder outside the checkout, and the
evaluation scripts are copies, so nothing can come from the checkout.
"""
import os
import re
import shutil
import subprocess
import sys
import sysconfig

import numpy as np
import pytest

from helpers import REPO, build_wheel, write_image


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(venv folder, a working folder outside the checkout, the environment variables to run with)."""
    root = tmp_path_factory.mktemp("install")
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    site = sysconfig.get_paths("venv", vars={"base": str(venv), "platbase": str(venv)})["purelib"]
    with open(os.path.join(site, "tested_dependencies.pth"), "w") as stream:
        stream.write(sysconfig.get_paths()["purelib"] + "\n")
    wheel = build_wheel(root)
    done = subprocess.run([sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install",
                           "--no-index", "--quiet", str(wheel)], capture_output=True, text=True)
    assert done.returncode == 0, f"pip install failed:\n{done.stdout}\n{done.stderr}"
    work = root / "elsewhere"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env.update(TF_CPP_MIN_LOG_LEVEL="3", IQA_KERAS_CACHE=str(root / "cache"), MPLBACKEND="Agg")
    return venv, work, env


def _run(installed, *command, program="python"):
    venv, work, env = installed
    done = subprocess.run([str(venv / "bin" / program), *command], cwd=work, env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"{command} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def pair(installed):
    rng = np.random.default_rng(0)
    ref = rng.integers(0, 256, (128, 128, 3), dtype=np.uint8)
    dist = np.clip(ref.astype(int) + rng.integers(-30, 31, ref.shape), 0, 255).astype(np.uint8)
    work = installed[1]
    write_image(work / "Ref" / "A0001.bmp", ref)
    write_image(work / "Dis" / "A0001_00_00.bmp", dist)
    return "Ref/A0001.bmp", "Dis/A0001_00_00.bmp"


@pytest.mark.slow
def test_installed_package_is_the_one_imported_and_lists_its_presets(installed):
    venv = installed[0]
    location = _run(installed, "-c", "import iqa_keras; print(iqa_keras.__file__)").strip()
    assert location.startswith(str(venv)), location
    assert _run(installed, "--version", program="iqa-keras").startswith("iqa-keras ")
    listing = _run(installed, "models", "--shipped", program="iqa-keras")
    assert f"presets in {venv}" in listing and "pretrained_fr.keras [default]: preset 'pretrained_fr', sha256 ok" in listing


@pytest.mark.slow
def test_scoring_commands_use_the_installed_default_model(installed, pair):
    ref, dist = pair
    out = _run(installed, "-m", "iqa_keras", "score", "--ref", ref, "--distorted", dist)
    assert re.search(r"\d\.\d+", out), out
    scripts = installed[1] / "scripts"
    scripts.mkdir(exist_ok=True)
    for name in ("evaluation_single_image.py", "evaluation_ntire.py"):
        shutil.copy(REPO / name, scripts / name)
    out = _run(installed, "scripts/evaluation_single_image.py", "--ref", ref, "--distorted", dist, "--tta", "none")
    assert "Image Quality Score" in out
    _run(installed, "scripts/evaluation_ntire.py", "--ref-dir", "Ref", "--dist-dir", "Dis", "--tta", "none",
         "--output", "output.txt")
    assert re.fullmatch(r"A0001_00_00\.bmp,-?\d+\.\d+\n", (installed[1] / "output.txt").read_text())


@pytest.mark.slow
def test_bundled_config_trains_by_name(installed):
    _run(installed, "train", "demo_fr_simple", "--set", "train.epochs=1", "--set", "train.steps_per_epoch=2",
         "--set", "data.datasets.0.options={size = 48}", "--set", "model.input_size=32", "--set", "train.batch_size=4",
         program="iqa-keras")
    run_dir = installed[1] / "runs" / "demo_fr_simple"
    assert (run_dir / "best.keras").is_file() and (run_dir / "config.toml").is_file()
