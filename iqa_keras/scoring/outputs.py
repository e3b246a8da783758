"""Writing score files: NTIRE ``output.txt`` + ``readme.txt`` (zipped), CSV and JSON.

Every file is written under a temporary name in its target folder and renamed
when complete, so an interrupted run leaves either the whole file or none.
"""
from __future__ import annotations

import csv
import io
import json
import os
import zipfile
from typing import Sequence

from ..utils.atomic import atomic_write_bytes


def format_score(score: float) -> str:
    """Shortest text that reads back as the same float (``repr``)."""
    return repr(float(score))


def ntire_output_text(names: Sequence[str], scores: Sequence[float]) -> str:
    """``output.txt`` of the NTIRE challenge: one ``name,score`` line per distorted image."""
    if len(names) != len(scores):
        raise ValueError(f"{len(names)} names but {len(scores)} scores")
    return "".join(f"{name},{format_score(score)}\n" for name, score in zip(names, scores))


def ntire_readme_text(runtime_per_image: float, cpu: bool, extra_data: bool, description: str) -> str:
    """``readme.txt`` in the challenge's four-line format."""
    description = " ".join(description.split())  # one line
    return (
        f"runtime per image [s] : {runtime_per_image:.4f}\n"
        f"CPU[1] / GPU[0] : {1 if cpu else 0}\n"
        f"Extra Data [1] / No Extra Data [0] : {1 if extra_data else 0}\n"
        f"Other description : {description}\n"
    )


def write_ntire_zip(path: str | os.PathLike, output_text: str, readme_text: str) -> None:
    """A submission zip with ``output.txt`` and ``readme.txt`` at its top level."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("output.txt", output_text)
        archive.writestr("readme.txt", readme_text)
    atomic_write_bytes(path, buffer.getvalue())


def scores_csv_text(rows: Sequence[dict]) -> str:
    """CSV with a header from the first row's keys."""
    if not rows:
        return ""
    stream = io.StringIO()
    writer = csv.DictWriter(stream, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: format_score(v) if isinstance(v, float) else v for k, v in row.items()})
    return stream.getvalue()


def scores_json_text(rows: Sequence[dict], meta: dict | None = None) -> str:
    return json.dumps({**(meta or {}), "scores": list(rows)}, indent=2) + "\n"


def write_scores(path: str | os.PathLike, rows: Sequence[dict], meta: dict | None = None, fmt: str | None = None) -> None:
    """Writes rows as CSV or JSON (by ``fmt``, else by the file extension; CSV by default)."""
    fmt = fmt or ("json" if os.fspath(path).lower().endswith(".json") else "csv")
    if fmt not in ("csv", "json"):
        raise ValueError(f"unknown output format {fmt!r}; known: csv, json")
    text = scores_json_text(rows, meta) if fmt == "json" else scores_csv_text(rows)
    atomic_write_bytes(path, text.encode("utf-8"))
