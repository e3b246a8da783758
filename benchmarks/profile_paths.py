#!/usr/bin/env python3
"""Where the time of a training step and of 22-copy scoring goes, piece by piece.

Times each piece on its own (median of ``--rounds``, after a warm-up that
traces the graphs), for ``fr_simple`` with the hyper-parameters of
``configs/fr_simple_model1.toml`` at 288 x 288:

* scoring with the ``ntire`` TTA, per pair: decoding a BMP pair; the TTA
  copies alone (``augment_pairs``: Lab lightness copies, rotations, flips);
  the network on the 22 copies alone; the Scorer's whole graph call
  (augmentation and network together, on decoded patches);
* a training step of batch 16: the forward pass alone; forward and backward
  with the MSE alone; the seed loss (MSE + surrogate Spearman) on fixed
  predictions; the whole ``train_on_batch`` step (forward, loss, backward,
  Adam update).

    python benchmarks/profile_paths.py [--rounds 5] [--batch-size 8]
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import tomllib
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))


def median_seconds(work, rounds: int) -> float:
    work()  # warm-up: traces graphs
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=8, help="Scorer patches per graph call (default 8)")
    args = parser.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras
    import tensorflow as tf

    from iqa_keras import build_model
    from iqa_keras.config import config_from_dict
    from iqa_keras.data.images import read_image
    from iqa_keras.scoring import Scorer
    from iqa_keras.scoring.tta import augment_pairs, resolve_tta
    from iqa_keras.training.run import build_compiled_model
    from iqa_keras.utils.flops import count_flops
    from score_throughput import write_pairs

    raw = tomllib.loads((REPO / "configs" / "fr_simple_model1.toml").read_text())
    hyper = {k: v for k, v in raw["model"].items() if k not in ("architecture", "input_size")}
    size, n = int(raw["model"]["input_size"]), args.batch_size
    keras.utils.set_random_seed(0)
    model = build_model("fr_simple", input_size=size, **hyper)
    gflop = count_flops(model) / 1e9
    rng = np.random.default_rng(0)
    print(f"fr_simple (fr_simple_model1.toml) at {size} x {size}: {gflop:.3f} GFLOP per forward pass; "
          f"{os.cpu_count()} CPUs; median of {args.rounds} rounds")

    # Scoring, per pair, with the 22 ntire copies.
    augmentations = resolve_tta("ntire")
    copies = len(augmentations)
    with tempfile.TemporaryDirectory() as folder:
        files = write_pairs(folder, n, size)
        decode = median_seconds(lambda: [(read_image(r), read_image(d)) for r, d in files], args.rounds) / n
        scorer = Scorer(model, tta="ntire", batch_size=n)
        whole = median_seconds(lambda: scorer.score_pairs(files), args.rounds) / n
    ref = tf.constant(rng.integers(0, 256, (n, size, size, 3)), tf.uint8)
    dist = tf.constant(rng.integers(0, 256, (n, size, size, 3)), tf.uint8)
    spec = tf.TensorSpec([None, size, size, 3], tf.uint8)

    @tf.function(input_signature=[spec, spec])
    def augment_only(r, d):
        refs, dists = augment_pairs(tf.cast(r, tf.float32), tf.cast(d, tf.float32), augmentations)
        return tf.reduce_sum(refs) + tf.reduce_sum(dists)

    stacked = [tf.constant(rng.uniform(0, 255, (copies * n, size, size, 3)).astype("float32")) for _ in range(2)]
    network = tf.function(lambda r, d: model([r, d], training=False))
    group = scorer._groups[0]
    augment = median_seconds(lambda: augment_only(ref, dist).numpy(), args.rounds) / n
    forward = median_seconds(lambda: network(*stacked).numpy(), args.rounds) / n
    graph = median_seconds(lambda: group.batch_fn(ref, dist).numpy(), args.rounds) / n
    print(f"\nscoring with {copies} copies, seconds per pair (batches of {n} patches):")
    rows = [("decode a BMP pair (Pillow)", decode), ("TTA copies alone (augment_pairs)", augment),
            (f"network on the {copies} copies alone", forward), ("the Scorer's graph call (both)", graph),
            ("Scorer.score_pairs, everything", whole)]
    for name, seconds in rows:
        print(f"  {name:<38} {seconds:8.4f} s  {seconds / whole:6.1%}")
    print(f"  network alone: {copies * gflop / forward:.1f} GFLOP/s")

    # Training, per step of 16.
    batch = 16
    x = [tf.constant(rng.uniform(0, 255, (batch, size, size, 3)).astype("float32")) for _ in range(2)]
    y = tf.constant(rng.uniform(-1, 1, (batch, 1)).astype("float32"))
    trainer = build_compiled_model(config_from_dict(raw, "fr_simple_model1.toml"))
    loss_fn = trainer.loss

    @tf.function
    def forward_only():
        return trainer(x, training=True)

    @tf.function
    def forward_backward_mse():
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(trainer(x, training=True) - y))
        return tape.gradient(loss, trainer.trainable_variables)

    predictions = tf.constant(rng.uniform(-1, 1, (batch, 1)).astype("float32"))
    loss_only = tf.function(lambda: loss_fn(y, predictions))
    step = median_seconds(lambda: trainer.train_on_batch(x, y), args.rounds)
    rows = [("forward pass (training mode)", median_seconds(lambda: forward_only().numpy(), args.rounds)),
            ("forward + backward, MSE only", median_seconds(lambda: [g.numpy() for g in forward_backward_mse()],
                                                             args.rounds)),
            ("the seed loss alone (MSE + Spearman term)", median_seconds(lambda: loss_only().numpy(), args.rounds)),
            ("train_on_batch (everything)", step)]
    print(f"\ntraining step, batch {batch}, seconds per step:")
    for name, seconds in rows:
        print(f"  {name:<42} {seconds:8.4f} s  {seconds / step:6.1%}")
    print(f"  whole step: {batch / step:.1f} pairs/s, {3 * gflop * batch / step:.1f} GFLOP/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
