#!/usr/bin/env python3
"""Scoring throughput: pairs per second with 22-way ``ntire`` TTA on 288 x 288 pairs.

Builds untrained ``fr_simple`` networks at the default size (288, about 1.5
GFLOP per forward pass), writes random 288 x 288 BMP pairs to a temporary
folder (so decoding is part of the measurement, as in evaluation_ntire.py),
and times ``Scorer.score_pairs`` with one and with three models after one
warm-up pair (graph tracing excluded). Besides wall-clock pairs/s it prints
the process's CPU seconds per pair, which other processes on a shared
machine do not inflate.

    python benchmarks/score_throughput.py [--pairs 16] [--models 1 3] [--tta ntire] [--batch-size 8]
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

import numpy as np


def write_pairs(folder: str, count: int, size: int, seed: int = 0) -> list[tuple[str, str]]:
    from PIL import Image

    rng = np.random.default_rng(seed)
    pairs = []
    for i in range(count):
        ref = rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
        dist = np.clip(ref.astype(np.int16) + rng.integers(-25, 26, ref.shape), 0, 255).astype(np.uint8)
        paths = (os.path.join(folder, f"A{i:04d}.bmp"), os.path.join(folder, f"A{i:04d}_00_00.bmp"))
        Image.fromarray(ref).save(paths[0])
        Image.fromarray(dist).save(paths[1])
        pairs.append(paths)
    return pairs


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=16, help="timed pairs per configuration (default 16)")
    parser.add_argument("--models", type=int, nargs="+", default=[1, 3], help="ensemble sizes (default: 1 3)")
    parser.add_argument("--tta", default="ntire", help="TTA set (default: ntire, 22 copies)")
    parser.add_argument("--size", type=int, default=288, help="image and model input size (default 288)")
    parser.add_argument("--batch-size", type=int, default=8, help="pairs per graph call (default 8)")
    parser.add_argument("--workers", type=int, default=2, help="decoding threads (default 2)")
    args = parser.parse_args(argv)

    import keras
    import tensorflow as tf

    from iqa_keras import build_model
    from iqa_keras.scoring import Scorer

    gpus = tf.config.list_physical_devices("GPU")
    print(f"TensorFlow {tf.__version__}, Keras {keras.__version__}; "
          f"{'GPU: ' + ', '.join(g.name for g in gpus) if gpus else 'CPU only'}; {os.cpu_count()} CPU cores")
    with tempfile.TemporaryDirectory(prefix="iqa-bench-") as folder:
        pairs = write_pairs(folder, args.pairs + 1, args.size)
        for count in args.models:
            models = []
            for seed in range(count):
                keras.utils.set_random_seed(seed)
                models.append(build_model("fr_simple", input_size=args.size))
            scorer = Scorer(models, tta=args.tta, batch_size=args.batch_size, workers=args.workers)
            scorer.score_pairs(pairs[:1])  # warm-up: traces the graph
            load = os.getloadavg()[0]
            start, cpu_start = time.perf_counter(), time.process_time()
            scorer.score_pairs(pairs[1:])
            elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu_start
            copies = len(scorer.augmentations)
            print(f"{count} model(s), TTA {args.tta} ({copies} copies), {args.size}x{args.size}, "
                  f"batch {args.batch_size}: {args.pairs / elapsed:.3f} pairs/s "
                  f"({elapsed / args.pairs:.3f} s per pair; {cpu / args.pairs:.3f} CPU-s per pair; "
                  f"{args.pairs} pairs in {elapsed:.1f} s; load average {load:.1f} at start)")
            sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
