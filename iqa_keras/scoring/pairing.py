"""Which images to score: pairing each distorted image of a folder with its reference, ordering, listing.

Rules (``--pair-rule``):

* ``pipal`` (default): the reference's name is the distorted name up to its
  first ``_``: ``A0001_00_00.bmp`` -> ``A0001.bmp``.
* ``same-name``: the reference has the distorted image's name.
* ``regex:PATTERN``: ``PATTERN`` must match the whole distorted file stem
  (name without extension); its group ``ref`` (or else its first group) is
  the reference's stem, e.g. ``regex:(?P<ref>i\\d+)_.*`` for TID2013.

The reference is looked up by stem with any image extension; an exact stem
match wins over a case-insensitive one (TID ships ``I01.BMP`` for ``i01_01_1.bmp``).

Order: natural sort of the distorted stems (runs of digits compare as
numbers), which for PIPAL names is the NTIRE 2021 reference's order: by reference number,
then distortion type, then index.
"""
from __future__ import annotations

import dataclasses
import os
import re
from pathlib import Path

from ..data.images import is_image_file

PAIR_RULES = ("pipal", "same-name", "regex:PATTERN")


class MissingReferenceError(ValueError):
    """Some distorted images have no reference; the message lists every one."""

    def __init__(self, missing: list[tuple[str, str]], ref_dir: str):
        self.missing = missing
        lines = "\n".join(f"  {dist} (expected reference {expected})" for dist, expected in missing)
        super().__init__(
            f"{len(missing)} distorted image(s) have no reference in {ref_dir}:\n{lines}\n"
            "(use --skip-missing to score the others, or --pair-rule for other file naming)"
        )


@dataclasses.dataclass
class Pairing:
    """The outcome of pairing a folder: ``pairs`` to score, ``missing`` (skipped) distorted files."""

    pairs: list[tuple[str, str]]  # (reference path, distorted path), in scoring order
    missing: list[tuple[str, str]]  # (distorted path, expected reference stem)

    @property
    def names(self) -> list[str]:
        return [os.path.basename(dist) for _, dist in self.pairs]


def natural_key(name: str) -> tuple:
    """Sort key that orders ``A2_1`` before ``A10_1``: digit runs compare as integers."""
    stem = Path(name).stem
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part) for part in re.findall(r"\d+|\D+", stem)) + (
        (2, 0, name),
    )


def reference_stem(dist_name: str, rule: str) -> str:
    """The stem of the reference that ``dist_name`` (a file name) belongs to under ``rule``."""
    stem = Path(dist_name).stem
    if rule == "pipal":
        return stem.split("_", 1)[0]
    if rule == "same-name":
        return stem
    if rule.startswith("regex:"):
        pattern = rule[len("regex:") :]
        try:
            match = re.fullmatch(pattern, stem)
        except re.error as error:
            raise ValueError(f"--pair-rule {rule!r}: invalid regular expression: {error}") from None
        if match is None:
            return ""
        if "ref" in match.groupdict():
            return match.group("ref")
        if match.groups():
            return match.group(1)
        raise ValueError(f"--pair-rule {rule!r}: the pattern needs a group (ref) naming the reference stem")
    raise ValueError(f"unknown pair rule {rule!r}; known: {', '.join(PAIR_RULES)}")


def list_images(folder: str | os.PathLike, what: str) -> list[str]:
    """Image files directly inside ``folder`` (sorted), or an error naming the folder."""
    folder = os.fspath(folder)
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"{what} folder not found: {folder}")
    names = sorted(name for name in os.listdir(folder) if is_image_file(name) and not name.startswith("."))
    return [os.path.join(folder, name) for name in names]


def _reference_index(ref_paths: list[str]) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    exact: dict[str, list[str]] = {}
    folded: dict[str, list[str]] = {}
    for path in ref_paths:
        stem = Path(path).stem
        exact.setdefault(stem, []).append(path)
        folded.setdefault(stem.lower(), []).append(path)
    return exact, folded


def pair_folders(
    ref_dir: str | os.PathLike,
    dist_dir: str | os.PathLike,
    rule: str = "pipal",
    skip_missing: bool = False,
) -> Pairing:
    """Pairs every image in ``dist_dir`` with its reference in ``ref_dir``.

    Raises :class:`MissingReferenceError` listing all unpaired distorted files
    unless ``skip_missing``; an empty ``dist_dir`` and a reference stem that
    matches several files are errors too.
    """
    dist_paths = list_images(dist_dir, "distorted-image")
    if not dist_paths:
        raise ValueError(f"no image files in the distorted-image folder {os.fspath(dist_dir)}")
    exact, folded = _reference_index(list_images(ref_dir, "reference-image"))
    pairs, missing = [], []
    for dist in sorted(dist_paths, key=lambda p: natural_key(os.path.basename(p))):
        stem = reference_stem(os.path.basename(dist), rule)
        candidates = (exact.get(stem) or folded.get(stem.lower(), [])) if stem else []
        if len(candidates) > 1:
            raise ValueError(
                f"{dist}: reference stem {stem!r} matches several files: {', '.join(candidates)}"
            )
        if not candidates:
            missing.append((dist, stem or f"(no match for rule {rule!r})"))
            continue
        pairs.append((candidates[0], dist))
    if missing and not skip_missing:
        raise MissingReferenceError(missing, os.fspath(ref_dir))
    if not pairs:
        raise ValueError(f"no distorted image in {os.fspath(dist_dir)} has a reference in {os.fspath(ref_dir)}")
    return Pairing(pairs=pairs, missing=missing)


def expand_images(items) -> list[str]:
    """Files as given and the image files of folders (sorted, not recursive)."""
    paths = []
    for item in items:
        if os.path.isdir(item):
            found = sorted(os.path.join(item, n) for n in os.listdir(item) if is_image_file(n))
            if not found:
                raise ValueError(f"{item}: no image files in this folder")
            paths += found
        elif os.path.isfile(item):
            paths.append(item)
        else:
            raise FileNotFoundError(f"image or folder not found: {item}")
    return paths
