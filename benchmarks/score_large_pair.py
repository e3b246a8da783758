#!/usr/bin/env python3
"""Peak memory and time of scoring one large pair, against a pair of a sixteenth of its area.

Writes a (reference, distorted) JPEG pair of each size (smooth gradients
plus noise, quality 95) to a temporary folder, then scores each pair in a
fresh process with ``iqa-keras score`` under ``/usr/bin/time -v`` (or, where
that is missing, ``resource.getrusage`` of the child) and prints the peak
resident memory, the wall-clock and CPU seconds of the process, and the
scoring seconds that ``iqa-keras score`` reports in its JSON output (model
loading excluded). Memory and time should grow linearly with the area:
the large pair under 1 GB, its scoring time within 2 x (area ratio) x the
small pair's.

    python benchmarks/score_large_pair.py [--models models/demo_fr_simple.keras] [--sizes 1500x1000 6000x4000]
"""
from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]


def write_pair(folder: Path, width: int, height: int, seed: int = 0) -> tuple[Path, Path]:
    from PIL import Image

    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    base = np.stack([x / width * 200, y / height * 200, (x + y) / (width + height) * 200], axis=-1)
    ref = np.clip(base + rng.normal(0, 12, base.shape), 0, 255).astype(np.uint8)
    del base
    dist = np.clip(ref.astype(np.int16) + rng.integers(-30, 31, ref.shape, dtype=np.int16), 0, 255).astype(np.uint8)
    paths = folder / f"ref_{width}x{height}.jpg", folder / f"dist_{width}x{height}.jpg"
    Image.fromarray(ref).save(paths[0], quality=95)
    Image.fromarray(dist).save(paths[1], quality=95)
    return paths


def score_in_child(ref: Path, dist: Path, models: str, out: Path) -> dict:
    """Runs ``iqa-keras score`` in a fresh process; peak RSS (MB), wall and CPU seconds, scoring seconds."""
    command = [sys.executable, "-m", "iqa_keras.cli", "score", "--ref", str(ref), "--distorted", str(dist),
               "--models", models, "--output", str(out)]
    timer = Path("/usr/bin/time").is_file()
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    completed = subprocess.run((["/usr/bin/time", "-v"] if timer else []) + command, cwd=REPO, env=env,
                               capture_output=True, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if completed.returncode != 0:
        raise SystemExit(f"scoring failed ({completed.returncode}):\n{completed.stderr[-3000:]}")
    peak_kb = after.ru_maxrss  # the largest child so far: each size runs in its own, larger-last order
    if timer:
        match = re.search(r"Maximum resident set size \(kbytes\): (\d+)", completed.stderr)
        peak_kb = int(match.group(1)) if match else peak_kb
    result = json.loads(out.read_text())
    return {
        "peak_rss_mb": peak_kb / 1024,
        "wall_s": wall,
        "cpu_s": (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime),
        "scoring_s": result["seconds_per_pair"],
        "score": result["scores"][0]["score"],
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default=str(REPO / "models" / "demo_fr_simple.keras"),
                        help="model file (default: the shipped demo model, input 144 px)")
    parser.add_argument("--sizes", nargs="+", default=["1500x1000", "6000x4000"], help="WIDTHxHEIGHT, smallest first")
    args = parser.parse_args(argv)
    sizes = [tuple(int(v) for v in text.lower().split("x")) for text in args.sizes]
    rows = []
    with tempfile.TemporaryDirectory(prefix="iqa_large_pair_") as folder:
        folder = Path(folder)
        for width, height in sizes:
            ref, dist = write_pair(folder, width, height)
            row = {"size": f"{width}x{height}", "megapixels": width * height / 1e6,
                   **score_in_child(ref, dist, args.models, folder / f"scores_{width}x{height}.json")}
            rows.append(row)
            print(f"{row['size']:>10}: peak RSS {row['peak_rss_mb']:.0f} MB, scoring {row['scoring_s']:.1f} s "
                  f"(process: {row['wall_s']:.1f} s wall, {row['cpu_s']:.1f} s CPU), score {row['score']:.4f}",
                  flush=True)
    small, large = rows[0], rows[-1]
    area = large["megapixels"] / small["megapixels"]
    print(f"area ratio {area:.1f}; scoring time ratio {large['scoring_s'] / small['scoring_s']:.1f} "
          f"(limit {2 * area:.0f}); CPU ratio {large['cpu_s'] / small['cpu_s']:.1f}; "
          f"peak of the large pair {large['peak_rss_mb']:.0f} MB (limit 1024)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
