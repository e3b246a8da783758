"""The photo corpus of the shipped pretrained models: rebuild it, or list its candidates.

The corpus is the photographs among the wallpapers of a few Debian packages
plus the sample photographs that ship in the package's dependencies
(scikit-image, Matplotlib). ``photo_corpus.csv`` beside this script records,
for every photo, where it comes from (Debian package and path, or the
dependency's sample name), its licence and copyright holder, and the sha256 of
the source file, so that anyone can rebuild the same corpus::

    apt-get install plasma-workspace-wallpapers mate-backgrounds \
        lomiri-wallpapers-16.04 lomiri-wallpapers-20.04
    python prepare_dataset/photo_corpus.py build --out ~/photo_corpus

``build`` copies each listed file under a stable name (``<name>.<ext>``,
dependency samples written as PNG), refusing any file whose sha256 differs
from the manifest. The folder then serves as the ``root`` of a
``name = "photos"`` dataset. Only photographs were kept (no illustrations,
renders or abstract art), judged by eye from a contact sheet; a photo with a
deliberate distortion of its own (long-exposure motion blur) was left out.
The LIVE reference photographs are never part of this corpus: they are the
development check of the models trained on it.
"""
from __future__ import annotations

import argparse
import csv
import hashlib
import shutil
import sys
import tempfile
from pathlib import Path

MANIFEST = Path(__file__).with_name("photo_corpus.csv")
FIELDS = ("name", "source", "package", "version", "path", "licence", "copyright", "sha256")


def sha256_of(path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_manifest(path=MANIFEST) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    for line, row in enumerate(rows, start=2):
        missing = [f for f in FIELDS if not row.get(f)]
        if missing:
            raise ValueError(f"{path}, line {line}: empty {', '.join(missing)}")
    return rows


def _sample_source(row: dict) -> Path:
    """The file behind a dependency sample: ``skimage:<function>`` or ``matplotlib:<sample file>``."""
    library, _, item = row["path"].partition(":")
    if library == "skimage":
        import skimage.data

        return Path(skimage.data.__file__).parent / item
    if library == "matplotlib":
        from matplotlib import cbook

        return Path(cbook.get_sample_data(item, asfileobj=False))
    raise ValueError(f"{MANIFEST}: unknown sample library in path {row['path']!r} (skimage: or matplotlib:)")


def source_file(row: dict) -> Path:
    return Path(row["path"]) if row["source"] == "debian" else _sample_source(row)


def build(out: Path, manifest=MANIFEST) -> list[Path]:
    """Copies every manifest photo into ``out`` after checking its sha256; returns the written paths."""
    rows = read_manifest(manifest)
    problems = []
    for row in rows:
        path = source_file(row)
        if not path.is_file():
            hint = f"install the Debian package {row['package']}" if row["source"] == "debian" else \
                f"install {row['package']} {row['version']}"
            problems.append(f"{row['name']}: {path} not found ({hint})")
        elif sha256_of(path) != row["sha256"]:
            problems.append(f"{row['name']}: {path} has sha256 {sha256_of(path)}, manifest says {row['sha256']}")
    if problems:
        raise SystemExit("photo corpus: " + "; ".join(problems))
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for row in rows:
        path = source_file(row)
        target = out / f"{row['name']}{path.suffix.lower()}"
        with tempfile.NamedTemporaryFile(dir=out, prefix=".tmp-", suffix=path.suffix, delete=False) as handle:
            temporary = Path(handle.name)
        shutil.copyfile(path, temporary)
        temporary.replace(target)
        written.append(target)
    return written


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    build_parser = commands.add_parser("build", help="copy the manifest's photos into a folder, checking sha256")
    build_parser.add_argument("--out", required=True, type=Path, help="folder to write (created)")
    build_parser.add_argument("--manifest", type=Path, default=MANIFEST)
    check_parser = commands.add_parser("check", help="verify every source file against the manifest")
    check_parser.add_argument("--manifest", type=Path, default=MANIFEST)
    args = parser.parse_args(argv)
    if args.command == "build":
        written = build(args.out, args.manifest)
        print(f"{len(written)} photos written to {args.out}")
        return 0
    bad = [row["name"] for row in read_manifest(args.manifest)
           if not source_file(row).is_file() or sha256_of(source_file(row)) != row["sha256"]]
    print(f"{len(read_manifest(args.manifest)) - len(bad)} photos match the manifest" +
          (f"; missing or different: {', '.join(bad)}" if bad else ""))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
