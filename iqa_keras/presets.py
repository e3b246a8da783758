"""Presets: shipped models by name, checked against a manifest before they load.

A preset folder holds ``.keras`` files (written by :func:`iqa_keras.save_model`,
so each carries its ModelInfo) and ``manifest.json``, which lists every file
with its sha256 and what the ModelInfo says about it (FR or NR, architecture,
input size, score range and direction, training data, checked figures). The
shipped folder is the repository's ``models/`` (inside the package once
installed, see :mod:`iqa_keras.resources`); any local folder of ``.keras``
files can be a preset source too. A file whose sha256 differs from its
manifest entry is refused: it was changed or damaged since the manifest was
written. A folder without a manifest is trusted as it is (nothing to check
against).

After adding or replacing a shipped model, regenerate the manifest with::

    python -m iqa_keras.presets --write-manifest [FOLDER]   # default: the shipped models/ folder
"""
from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import os
import sys
from pathlib import Path
from typing import Any

from .model_io import read_info
from .resources import shipped_dir
from .utils.atomic import atomic_write_text

MANIFEST = "manifest.json"
MANIFEST_FORMAT = 1
WRITE_COMMAND = "python -m iqa_keras.presets --write-manifest"
# ModelInfo.kind -> (what the model sees, what its head predicts)
KINDS = {"fr": ("FR", "score"), "nr": ("NR", "score"), "nima": ("NR", "histogram")}


class PresetError(ValueError):
    """A preset name, folder or manifest that cannot give a model (unknown name, missing file, bad manifest)."""


class PresetIntegrityError(PresetError):
    """A preset file whose sha256 is not the one its manifest records."""


@dataclasses.dataclass
class Preset:
    """One manifest entry; ``path`` is where the file is on this machine."""

    name: str
    file: str
    sha256: str
    bytes: int
    kind: str  # "FR" (reference, distorted) | "NR" (one image)
    head: str  # "score" | "histogram" (NIMA)
    architecture: str
    input_size: int
    score_range: list[float] | None
    higher_is_better: bool
    trained_on: list[str]
    label_source: str | None
    description: str | None
    checks: dict[str, Any]
    path: Path | None = dataclasses.field(default=None, compare=False, repr=False)
    verified: bool = dataclasses.field(default=False, compare=False, repr=False)

    def to_manifest(self) -> dict:
        entry = dataclasses.asdict(self)
        del entry["path"], entry["verified"]
        return entry


def sha256_of(path: str | os.PathLike) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _model_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*.keras") if not p.name.startswith("."))  # "." : an unfinished save


def describe_file(path: Path, folder: Path) -> Preset:
    """The manifest entry of one ``.keras`` file, from its bytes and its stored ModelInfo."""
    info = read_info(path)
    if info is None:
        raise PresetError(f"{path}: holds no ModelInfo (iqa_keras.json); save it with iqa_keras.save_model")
    if info.kind not in KINDS:
        raise PresetError(f"{path}: ModelInfo kind {info.kind!r}; expected one of {', '.join(KINDS)}")
    kind, head = KINDS[info.kind]
    return Preset(
        name=path.stem, file=path.relative_to(folder).as_posix(), sha256=sha256_of(path),
        bytes=path.stat().st_size, kind=kind, head=head, architecture=info.architecture,
        input_size=int(info.input_size), score_range=list(info.score_range) if info.score_range else None,
        higher_is_better=bool(info.higher_is_better), trained_on=list(info.trained_on),
        label_source=info.label_source, description=info.description, checks=dict(info.checks),
        path=path, verified=True,
    )


def scan_folder(folder: str | os.PathLike) -> list[Preset]:
    """Entries for every ``.keras`` file under ``folder`` (names: file stems, which must be unique)."""
    folder = Path(folder)
    presets = [describe_file(path, folder) for path in _model_files(folder)]
    seen: dict[str, str] = {}
    for preset in presets:
        if preset.name in seen:
            raise PresetError(f"{folder}: two models named {preset.name!r} ({seen[preset.name]} and {preset.file}); "
                              "preset names are file stems and must be unique")
        seen[preset.name] = preset.file
    return presets


def manifest_text(presets: list[Preset]) -> str:
    entries = [p.to_manifest() for p in sorted(presets, key=lambda p: p.file)]
    return json.dumps({"format": MANIFEST_FORMAT, "presets": entries}, indent=2) + "\n"


def write_manifest(folder: str | os.PathLike | None = None) -> Path:
    """Recomputes ``manifest.json`` of ``folder`` (default: the shipped models) from its ``.keras`` files."""
    folder = Path(folder) if folder is not None else shipped_dir("models")
    if not folder.is_dir():
        raise PresetError(f"preset folder not found: {folder}")
    presets = scan_folder(folder)
    if not presets:
        raise PresetError(f"{folder}: no .keras file to list")
    target = folder / MANIFEST
    atomic_write_text(target, manifest_text(presets))
    return target


def read_manifest(folder: Path) -> list[Preset]:
    """The entries of ``folder/manifest.json`` with their local paths (not yet verified)."""
    path = folder / MANIFEST
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise PresetError(f"{path}: cannot read the preset manifest ({error})") from None
    if not isinstance(data, dict) or data.get("format") != MANIFEST_FORMAT or not isinstance(data.get("presets"), list):
        raise PresetError(f"{path}: expected {{\"format\": {MANIFEST_FORMAT}, \"presets\": [...]}}")
    fields = {f.name for f in dataclasses.fields(Preset)} - {"path", "verified"}
    presets = []
    for number, entry in enumerate(data["presets"]):
        if not isinstance(entry, dict) or set(entry) != fields:
            missing = sorted(fields - set(entry)) if isinstance(entry, dict) else sorted(fields)
            extra = sorted(set(entry) - fields) if isinstance(entry, dict) else []
            raise PresetError(f"{path}: presets[{number}]: missing {missing or 'nothing'}, unknown {extra or 'nothing'}")
        presets.append(Preset(**entry, path=folder / entry["file"]))
    return presets


def list_presets(source: str | os.PathLike | None = None) -> list[Preset]:
    """The presets of ``source`` (a folder; default the shipped models): its manifest, else its files."""
    folder = Path(source) if source is not None else shipped_dir("models")
    if not folder.is_dir():
        raise PresetError(f"preset folder not found: {folder}")
    return read_manifest(folder) if (folder / MANIFEST).is_file() else scan_folder(folder)


def verify(preset: Preset) -> Preset:
    """Checks that the file exists and has the manifest's sha256; returns the preset marked verified."""
    if preset.verified:
        return preset
    if preset.path is None or not preset.path.is_file():
        raise PresetError(f"preset {preset.name!r}: file {preset.path} listed in its manifest is missing")
    actual = sha256_of(preset.path)
    if actual != preset.sha256:
        raise PresetIntegrityError(
            f"preset {preset.name!r}: {preset.path} has sha256 {actual}, but its manifest records {preset.sha256}; "
            f"the file was changed or damaged, so it is not loaded (replaced on purpose? run `{WRITE_COMMAND} FOLDER`)"
        )
    return dataclasses.replace(preset, verified=True)


def get_preset(name: str, source: str | os.PathLike | None = None) -> Preset:
    """The verified preset called ``name`` in ``source`` (default: the shipped models)."""
    presets = list_presets(source)
    for preset in presets:
        if preset.name == name:
            return verify(preset)
    known = ", ".join(p.name for p in presets) or "none"
    where = source if source is not None else "the shipped models"
    raise PresetError(f"unknown preset {name!r} in {where}; known: {known}")


def from_preset(name: str, source: str | os.PathLike | None = None, compile: bool = False):
    """The Keras model of preset ``name`` (checked against its manifest), with ``model.iqa_info`` and ``model.iqa_preset``."""
    from .model_io import load_model

    preset = get_preset(name, source)
    model = load_model(preset.path, compile=compile)
    model.iqa_preset = preset
    return model


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m iqa_keras.presets", description=__doc__.split("\n\n")[0])
    parser.add_argument("--write-manifest", action="store_true",
                        help="recompute manifest.json (sha256 and ModelInfo of every .keras file)")
    parser.add_argument("folder", nargs="?", help="preset folder (default: the shipped models/ folder)")
    args = parser.parse_args(argv)
    try:
        if args.write_manifest:
            target = write_manifest(args.folder)
            count = len(read_manifest(target.parent))
            print(f"wrote {target} ({count} preset{'s' if count != 1 else ''})")
            return 0
        for preset in list_presets(args.folder):
            print(f"{preset.name}\t{preset.kind}\t{preset.architecture}\t{preset.file}")
        return 0
    except (PresetError, OSError) as error:
        print(f"python -m iqa_keras.presets: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
