"""Presets: the shipped manifest matches the files, models load by name offline, a changed file is refused."""
import hashlib
import json
import shutil
import zipfile

import numpy as np
import pytest

import iqa_keras
from iqa_keras.architectures import build_model
from iqa_keras.cli import main as cli_main
from iqa_keras.presets import (MANIFEST, WRITE_COMMAND, PresetError, PresetIntegrityError, get_preset, list_presets,
                               main as presets_main, read_manifest, scan_folder)
from iqa_keras.resources import shipped_dir
from iqa_keras.scoring import Scorer

SHIPPED = shipped_dir("models")


def test_shipped_manifest_lists_every_shipped_file_with_its_current_sha256_and_info():
    """Read independently of the package: hashlib over the bytes, the ModelInfo member straight from the zip."""
    listed = {p.file: p for p in read_manifest(SHIPPED)}
    files = sorted(p.relative_to(SHIPPED).as_posix() for p in SHIPPED.rglob("*.keras") if not p.name.startswith("."))
    stale = f"the manifest is stale: run `{WRITE_COMMAND}`"
    assert sorted(listed) == files, stale
    for name, preset in listed.items():
        data = (SHIPPED / name).read_bytes()
        assert preset.sha256 == hashlib.sha256(data).hexdigest() and preset.bytes == len(data), f"{name}: {stale}"
        with zipfile.ZipFile(SHIPPED / name) as archive:
            info = json.loads(archive.read("iqa_keras.json"))
        assert (preset.architecture, preset.input_size, preset.higher_is_better) == (
            info["architecture"], info["input_size"], info["higher_is_better"]), f"{name}: {stale}"
        assert preset.kind == ("FR" if info["kind"] == "fr" else "NR"), f"{name}: {stale}"
        assert preset.score_range == info.get("score_range") and preset.checks == info.get("checks", {}), f"{name}: {stale}"
    # regenerating from the files gives the committed entries
    assert [p.to_manifest() for p in scan_folder(SHIPPED)] == [listed[f].to_manifest() for f in files], stale


def test_from_preset_loads_the_shipped_default_offline_and_scores_like_its_file():
    model = iqa_keras.from_preset("pretrained_fr")
    assert model.iqa_preset.name == "pretrained_fr" and model.iqa_info.kind == "fr"
    rng = np.random.default_rng(0)
    ref = rng.integers(0, 256, (96, 96, 3), dtype=np.uint8)
    dist = np.clip(ref.astype(int) + rng.integers(-40, 41, ref.shape), 0, 255).astype(np.uint8)
    by_preset = Scorer.from_preset("pretrained_fr").score_pair(ref, dist)
    by_file = Scorer(SHIPPED / "pretrained_fr.keras").score_pair(ref, dist)
    assert by_preset == pytest.approx(by_file, abs=1e-6)


@pytest.fixture
def preset_folder(tmp_path):
    model = build_model("fr_simple", input_size=32, dense_num=8)
    iqa_keras.save_model(model, tmp_path / "small.keras")
    iqa_keras.save_model(model, tmp_path / "more" / "other.keras")
    return tmp_path


def test_a_folder_without_manifest_is_a_preset_source(preset_folder):
    assert [p.name for p in list_presets(preset_folder)] == ["other", "small"]
    model = iqa_keras.from_preset("other", preset_folder)
    assert model.iqa_info.input_size == 32
    with pytest.raises(PresetError, match=r"unknown preset 'nope'.*known: other, small"):
        get_preset("nope", preset_folder)


def test_write_manifest_command_then_a_changed_file_is_refused(preset_folder, capsys):
    assert presets_main(["--write-manifest", str(preset_folder)]) == 0
    assert "2 presets" in capsys.readouterr().out
    entries = json.loads((preset_folder / MANIFEST).read_text())["presets"]
    assert [e["file"] for e in entries] == ["more/other.keras", "small.keras"]
    assert entries[1]["sha256"] == hashlib.sha256((preset_folder / "small.keras").read_bytes()).hexdigest()
    iqa_keras.from_preset("small", preset_folder)  # intact: loads

    with open(preset_folder / "small.keras", "ab") as stream:
        stream.write(b"\0")  # still a loadable zip, but not the listed bytes
    with pytest.raises(PresetIntegrityError, match=r"small\.keras has sha256 .* manifest records"):
        iqa_keras.from_preset("small", preset_folder)
    with pytest.raises(PresetIntegrityError):
        Scorer.from_preset("small", preset_folder)
    assert cli_main(["score", "--preset", "small", "--preset-dir", str(preset_folder),
                     "--ref", "r.png", "--distorted", "d.png"]) != 0
    assert "sha256" in capsys.readouterr().err
    assert cli_main(["models", "--preset-dir", str(preset_folder)]) == 0
    assert "'small', REFUSED" in capsys.readouterr().out


def test_a_listed_file_that_is_missing_and_a_damaged_manifest_are_named(preset_folder):
    presets_main(["--write-manifest", str(preset_folder)])
    shutil.move(preset_folder / "small.keras", preset_folder / "elsewhere.bin")
    with pytest.raises(PresetError, match="small.keras listed in its manifest is missing"):
        get_preset("small", preset_folder)
    (preset_folder / MANIFEST).write_text('{"format": 1, "presets": [{"name": "x"}]}')
    with pytest.raises(PresetError, match=r"manifest.json: presets\[0\]: missing"):
        list_presets(preset_folder)


def test_two_files_with_one_stem_cannot_both_be_presets(preset_folder):
    shutil.copy(preset_folder / "small.keras", preset_folder / "more" / "small.keras")
    with pytest.raises(PresetError, match="two models named 'small'"):
        scan_folder(preset_folder)
