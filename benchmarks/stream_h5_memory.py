"""Peak resident memory while streaming a ~2 GB HDF5 store through the tf.data pipeline.

Not part of the test suite. Step 1 (a child process, so that its memory is
not counted in step 2) writes the store with ``iqa_keras.data.write_h5`` from
the embedded synthetic set, its 315 pairs repeated until the file reaches
``--gigabytes`` (288 x 288 pairs: 497,664 bytes each, 4,019 pairs for 2 GB).
Step 2 streams one shuffled, augmented epoch through ``make_h5_dataset`` and
prints the process's peak resident set size (``ru_maxrss``). The issue's bound
is 1.5 GB.

    python benchmarks/stream_h5_memory.py [--gigabytes 2] [--path /tmp/iqa_stream.h5] [--augment seed]
"""
from __future__ import annotations

import argparse
import math
import os
import resource
import subprocess
import sys
import time


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: kilobytes


def write_store(path: str, gigabytes: float, size: int) -> None:
    import pandas as pd

    from iqa_keras.data import read_dataset, write_h5

    records = read_dataset("embedded", size=size)
    pair_bytes = 2 * size * size * 3
    count = math.ceil(gigabytes * 1e9 / pair_bytes)
    repeats = math.ceil(count / len(records))
    table = pd.concat([records] * repeats, ignore_index=True).head(count)
    start = time.time()
    write_h5(table, path, input_size=size, block_rows=64, progress=False)
    print(f"wrote {path}: {count} pairs, {os.path.getsize(path) / 1e9:.2f} GB in {time.time() - start:.0f} s; "
          f"writer peak RSS {_peak_rss_mb():.0f} MB", flush=True)


def stream(path: str, batch_size: int, augment: str, limit: int | None) -> None:
    import numpy as np

    from iqa_keras.data import make_h5_dataset, read_h5_info

    info = read_h5_info(path)
    base = _peak_rss_mb()
    dataset = make_h5_dataset(path, batch_size, shuffle=True, augment=None if augment == "none" else augment, seed=0)
    start, pairs, checksum = time.time(), 0, 0.0
    for step, ((ref, dist), y) in enumerate(dataset):
        pairs += int(y.shape[0])
        checksum += float(np.asarray(y).sum())
        if step % 50 == 0:
            print(f"  {pairs}/{info['count']} pairs, peak RSS so far {_peak_rss_mb():.0f} MB", flush=True)
        if limit and pairs >= limit:
            break
    elapsed = time.time() - start
    print(f"streamed {pairs} pairs ({pairs * info['x_shape'][2] ** 2 * 6 / 1e9:.2f} GB of images) from "
          f"{os.path.getsize(path) / 1e9:.2f} GB file in {elapsed:.0f} s ({pairs / elapsed:.1f} pairs/s), "
          f"batch {batch_size}, augment {augment}")
    print(f"peak RSS before the pipeline (TensorFlow loaded): {base:.0f} MB")
    print(f"PEAK RSS: {_peak_rss_mb():.0f} MB (bound: 1536 MB)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--path", default=os.path.join(os.environ.get("TMPDIR", "/tmp"), "iqa_keras_stream.h5"))
    parser.add_argument("--gigabytes", type=float, default=2.0)
    parser.add_argument("--size", type=int, default=288)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--augment", default="seed", choices=("none", "geometric", "seed"))
    parser.add_argument("--limit", type=int, default=None, help="stop after this many pairs")
    parser.add_argument("--rewrite", action="store_true", help="write the store even if it exists")
    parser.add_argument("--keep", action="store_true", help="keep the store afterwards")
    parser.add_argument("--write-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.write_only:
        write_store(args.path, args.gigabytes, args.size)
        return 0
    if args.rewrite or not os.path.isfile(args.path):
        subprocess.run([sys.executable, __file__, "--write-only", "--path", args.path,
                        "--gigabytes", str(args.gigabytes), "--size", str(args.size)], check=True)
    import tensorflow  # noqa: F401  (counted in the baseline)

    try:
        stream(args.path, args.batch_size, args.augment, args.limit)
    finally:
        if not args.keep and os.path.isfile(args.path):
            os.remove(args.path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
