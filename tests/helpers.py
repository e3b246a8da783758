"""Shared test helpers: image writers, a config factory, the ``.keras`` round-trip check, dataset folders.

Dataset folders are written in their authors' layouts with small flat-colour
images; only the folder structure and label formats matter there (the
readers' own tests check the parsing in detail).
"""
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
CONFIGS = REPO / "configs"


# ---------------------------------------------------------------- images
def write_image(path, pixels) -> str:
    """Writes ``(H, W, 3)`` uint8 pixels to ``path`` (format from the extension), creating folders."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.asarray(pixels, dtype=np.uint8)).save(path)
    return str(path)


def random_image(rng, size=(32, 32)) -> np.ndarray:
    """Uniform random RGB pixels of ``size`` = (height, width)."""
    return rng.integers(0, 256, (*size, 3), dtype=np.uint8)


def write_random_image(path, rng, size=(32, 32)) -> str:
    return write_image(path, random_image(rng, size))


def _image(path: Path, value: int, size=(32, 32)):
    pixels = np.full((*size, 3), value % 256, np.uint8)
    pixels[::2, :, 1] = (3 * value) % 256  # some texture
    write_image(path, pixels)


# ---------------------------------------------------------------- configs
def _toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_toml_value(v)}" for k, v in value.items()) + " }"
    return "[" + ", ".join(_toml_value(v) for v in value) + "]"


def toml_text(sections: dict) -> str:
    """TOML text of ``{section: {key: value}}``; ``data.datasets`` (a list of tables) becomes ``[[data.datasets]]``."""
    lines = []
    for section, table in sections.items():
        plain = {k: v for k, v in table.items() if not (k == "datasets" and section == "data")}
        lines.append(f"[{section}]")
        lines += [f"{key} = {_toml_value(value)}" for key, value in plain.items()]
        lines.append("")
        for dataset in table.get("datasets", []) if section == "data" else []:
            lines.append(f"[[{section}.datasets]]")
            lines += [f"{key} = {_toml_value(value)}" for key, value in dataset.items()]
            lines.append("")
    return "\n".join(lines)


def tiny_config(cache, **sections) -> dict:
    """A small run: ``fr_simple`` at 32 px on the 48 px embedded set in ``cache``, 2 epochs, MSE.

    Each keyword updates that section (a new one is added; ``None`` removes it);
    ``data`` replaces ``datasets`` when given.
    """
    config = {
        "model": {"architecture": "fr_simple", "input_size": 32, "dense_num": 16},
        "loss": {"name": "mse"},
        "data": {"cache_dir": str(cache), "datasets": [{"name": "embedded", "crop": "random", "options": {"size": 48}}]},
        "augment": {"enabled": False},
        "optimizer": {"learning_rate": 3e-4},
        "train": {"epochs": 2, "batch_size": 16, "verbose": 0},
    }
    for section, values in sections.items():
        if values is None:
            config.pop(section, None)
        else:
            config.setdefault(section, {}).update(values)
    return config


def write_config(path, sections: dict) -> Path:
    """Writes a config (a ``tiny_config`` dict) as TOML; returns the path."""
    path = Path(path)
    path.write_text(toml_text(sections), encoding="utf-8")
    return path


# ---------------------------------------------------------------- models
def redraw_weights(model, rng):
    """Kernels ~ N(0, 1 / fan-in) (activations neither vanish nor saturate); the rest near their usual values."""
    for weight in model.weights:
        shape = tuple(weight.shape)
        if len(shape) >= 2:
            fan_in = np.prod(shape[:2] if "depthwise" in weight.path else shape[:-1])
            value = rng.normal(0.0, 1.0 / np.sqrt(fan_in), shape)
        elif "variance" in weight.path:
            value = rng.uniform(0.5, 1.5, shape)
        elif "gamma" in weight.path:
            value = 1.0 + rng.normal(0.0, 0.1, shape)
        elif weight.path.endswith("bias"):
            value = rng.normal(0.0, 0.01, shape)
        else:
            value = rng.normal(0.0, 0.1, shape)
        weight.assign(value.astype("float32"))


def assert_keras_round_trip(model, path, inputs, atol=0.0):
    """Saves ``model`` with ``iqa_keras.save_model``, loads it back, and checks outputs and ModelInfo agree.

    Returns the loaded model. ``atol=0`` demands bit-identical outputs.
    """
    from iqa_keras import load_model, save_model

    expected = np.asarray(model.predict_on_batch(inputs))
    save_model(model, path)
    loaded = load_model(path)
    np.testing.assert_allclose(np.asarray(loaded.predict_on_batch(inputs)), expected, rtol=0, atol=atol)
    if hasattr(model, "iqa_info"):  # the description travels too (JSON: tuples come back as lists)
        assert json.loads(loaded.iqa_info.to_json()) == json.loads(model.iqa_info.to_json())
    return loaded


# ---------------------------------------------------------------- dataset folders
def write_tid(root: Path, refs=(1, 2, 3, 25)) -> Path:
    """TID2008/TID2013: mos_with_names.txt, mos_std.txt, reference_images/, distorted_images/."""
    lines, stds = [], []
    for ref in refs:
        _image(root / "reference_images" / (f"I{ref:02d}.BMP" if ref != 25 else f"i{ref:02d}.bmp"), 9 * ref)
        for kind in (1, 2):
            for level in (1, 2, 3):
                name = f"i{ref:02d}_{kind:02d}_{level}.bmp"
                _image(root / "distorted_images" / name, 9 * ref + kind + level)
                lines.append(f"{6.0 - level + 0.1 * kind:.4f} {name}")
                stds.append("0.5")
    (root / "mos_with_names.txt").write_text("\n".join(lines) + "\n")
    (root / "mos_std.txt").write_text("\n".join(stds) + "\n")
    return root


def write_pipal(root: Path, refs=(1, 2, 3, 4)) -> Path:
    """PIPAL: Train_Ref/, Train_Dis/, Train_Label/<REF>.txt with "<name>,<elo>" lines."""
    for ref in refs:
        stem = f"A{ref:04d}"
        _image(root / "Train_Ref" / f"{stem}.bmp", 20 * ref)
        lines = []
        for kind, index in ((0, 0), (1, 3), (2, 7)):
            name = f"{stem}_{kind:02d}_{index:02d}.bmp"
            _image(root / "Train_Dis" / name, 20 * ref + kind)
            lines.append(f"{name},{1400 + 25 * kind + ref:.4f}")
        (root / "Train_Label").mkdir(parents=True, exist_ok=True)
        (root / "Train_Label" / f"{stem}.txt").write_text("\n".join(lines) + "\n")
    return root


def write_pieapp(root: Path, comparisons: int = 1) -> Path:
    """PieAPP: reference lists, images per split, pairwise labels (train/val), per-image scores (test).

    ``comparisons``: how many labelled comparisons name each distorted image as image A (the
    real set has many, so one-row-per-comparison tables repeat (reference, distorted) pairs).
    """
    for split, refs in (("train", (1, 2)), ("val", (3,)), ("test", (4,))):
        root.mkdir(parents=True, exist_ok=True)
        (root / f"{split}_reference_list.txt").write_text("".join(f"ref_{r:04d}.png\n" for r in refs))
        for r in refs:
            stem = f"ref_{r:04d}"
            _image(root / "reference_images" / split / f"{stem}.png", 40 * r, size=(24, 24))
            names = [f"distort_{r:04d}_gaussian_blur_inter_{k}.png" for k in (1, 2, 3)]
            for k, name in enumerate(names):
                _image(root / "distorted_images" / split / stem / name, 40 * r + k, size=(24, 24))
            labels = root / "labels" / split
            labels.mkdir(parents=True, exist_ok=True)
            if split == "test":
                pd.DataFrame({"ref. image": f"{stem}.png", " distorted image": names,
                              " score for distorted image": [0.5, 1.5, 2.5]}) \
                    .to_csv(labels / f"{stem}_per_image_score.csv", index=False)
            else:
                preferences = [0.8, 0.4, 0.2] + [0.7, 0.5, 0.1] * (comparisons - 1)
                pd.DataFrame({"ref. image": f"{stem}.png",
                              " distorted image A": [names[0], names[1], names[2]] * comparisons,
                              " distorted image B": [names[1], names[2], names[0]] * comparisons,
                              " raw preference for A": preferences,
                              " processed preference for A": preferences}) \
                    .to_csv(labels / f"{stem}_pairwise_labels.csv", index=False)
    return root


WRITERS = {"tid2008": write_tid, "tid2013": write_tid, "pipal": write_pipal, "pieapp": write_pieapp}


# ---------------------------------------------------------------- packaging

# never copied: version control, environments, build leftovers (a stale build/ would leak into the wheel)
IGNORED = shutil.ignore_patterns(".git", ".venv", "build", "dist", "runs", "*.egg-info", "__pycache__",
                                 ".pytest_cache", ".tmp-*")


def build_wheel(workdir: Path) -> Path:
    """``pip wheel`` (isolated build, as ``pip install .`` does) of a copy of the checkout; returns the .whl."""
    source = workdir / "source"
    shutil.copytree(REPO, source, ignore=IGNORED)
    out = workdir / "dist"
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(out), str(source)],
                          capture_output=True, text=True)
    assert done.returncode == 0, f"pip wheel failed:\n{done.stdout}\n{done.stderr}"
    wheels = sorted(out.glob("iqa_keras-*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]
