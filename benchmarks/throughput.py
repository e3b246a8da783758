#!/usr/bin/env python3
"""Training and scoring throughput next to the machine's fp32 matrix-multiply rate (the ceiling).

    python benchmarks/throughput.py                       # the full run: a few minutes on a quiet 2-core CPU
    python benchmarks/throughput.py --models fr_simple nr --rounds 1 --pairs 16 --input-size 96 \\
        --memory-pairs 10 100                             # a smoke run (under two minutes)

In one process it measures, in this order:

1. the ceiling: float32 ``tf.matmul`` of two N x N matrices (``--matmul-size``),
   repeated, in GFLOP/s;
2. for each FR network (``fr_simple`` with the hyper-parameters of
   ``configs/fr_simple_model1.toml``; ``fr_bn``, ``fr_attention``, ``fr_tiled``
   with their defaults) at ``--input-size``: a training step (batch 16, the
   seed loss and optimizer of ``fr_simple_model1.toml``, compiled as
   ``iqa-keras train`` compiles it, on random pairs held in memory);
   ``model.predict`` at batch 16 and 64; the ``Scorer`` over a folder of random
   BMP pairs of the input size (decoding included) with the 22-copy ``ntire``
   TTA and with none. For the no-reference model (``nr``: ``configs/pretrained_nr.toml``,
   nima_regression on MobileNetV2 alpha 0.5 at 160): ``predict`` and the ``Scorer``
   without TTA, in images/s;
3. unless ``--skip-memory``: the peak resident memory of ``evaluation_ntire.py``
   scoring a folder of 100 and of 1,000 pairs (each in its own process, read
   from the kernel's record of that process when it ends) and their ratio,
   which should stay near 1 (memory must not grow with the folder).

Every measurement is repeated ``--rounds`` times, the rows of one model
interleaved within a round, after an untimed warm-up (graph tracing
excluded). Per row it prints the median rate and the min-max over rounds,
the process's CPU-seconds per pair (CPU time of all its threads / pairs: what
other processes on a shared machine do not inflate), the FLOPs of one pair
(``iqa_keras.utils.flops.count_flops``; a training step counts 3 forward
passes, a TTA copy one forward pass each; images of the input size are one
patch), the achieved GFLOP/s and its share of the ceiling's median. Work per
round is ``--pairs`` pairs scaled by FLOPs to fr_simple's (whole batches, at
least one), so heavy networks such as fr_tiled do fewer pairs. Figures from a
busy machine swing: compare ratios measured in one run.
"""
from __future__ import annotations

import argparse
import gc
import os
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from score_throughput import write_pairs  # noqa: E402  (this folder is on sys.path when run as a script)

REPO = Path(__file__).resolve().parents[1]
FR_MODELS = ("fr_simple", "fr_bn", "fr_attention", "fr_tiled")
MODELS = (*FR_MODELS, "nr")
WORK = ("train", "predict16", "predict64", "ntire", "none")
TRAIN_BATCH = 16


def config_table(name: str) -> dict:
    return tomllib.loads((REPO / "configs" / name).read_text())


def model_section(model: str, input_size: int) -> dict:
    """The [model] table a row builds: fr_simple model 1's, the other FR networks' defaults, the NR preset's."""
    if model == "fr_simple":
        table = dict(config_table("fr_simple_model1.toml")["model"])
    elif model == "nr":
        return dict(config_table("pretrained_nr.toml")["model"])
    else:
        table = {"architecture": model}
    table["input_size"] = input_size
    return table


def build(section: dict):
    from iqa_keras import build_model

    hyper = {k: v for k, v in section.items() if k not in ("architecture", "input_size")}
    return build_model(section["architecture"], input_size=section["input_size"], **hyper)


def build_for_training(section: dict, precision: str = "fp32"):
    """The model compiled as ``iqa-keras train`` would for fr_simple_model1.toml with this [model] table."""
    from iqa_keras.config import config_from_dict
    from iqa_keras.training.run import build_compiled_model

    raw = config_table("fr_simple_model1.toml")
    raw["model"] = section
    raw.setdefault("train", {})["precision"] = "mixed_bfloat16" if precision == "bf16" else "float32"
    return build_compiled_model(config_from_dict(raw, "fr_simple_model1.toml with the benchmark's [model]"))


@dataclass
class Row:
    model: str
    work: str
    unit: str  # "pairs" or "images"
    gflop_per_item: float  # forward passes per item x FLOPs of one forward pass
    rounds: list = field(default_factory=list)  # (items, wall seconds, CPU seconds)

    def rates(self):
        return [items / wall for items, wall, _ in self.rounds]

    def cpu_per_item(self):
        return statistics.median(cpu / items for items, _, cpu in self.rounds)


def timed(row: Row, items: int, work) -> None:
    start, cpu_start = time.perf_counter(), time.process_time()
    work()
    row.rounds.append((items, time.perf_counter() - start, time.process_time() - cpu_start))


def whole_batches(pairs: float, batch: int) -> int:
    return max(1, round(pairs / batch)) * batch


def matmul_ceiling(size: int, repeats: int, rounds: int) -> list[float]:
    """GFLOP/s of ``repeats`` float32 N x N matrix products per round (2 N^3 FLOPs each)."""
    import tensorflow as tf

    rng = np.random.default_rng(0)
    a = tf.constant(rng.standard_normal((size, size), dtype=np.float32))
    b = tf.constant(rng.standard_normal((size, size), dtype=np.float32))
    tf.matmul(a, b).numpy()  # warm-up
    rates = []
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(repeats):
            c = tf.matmul(a, b)
        c.numpy()
        rates.append(2 * size**3 * repeats / (time.perf_counter() - start) / 1e9)
    return rates


def measure_model(name: str, args, reference_flops: int, folder: str) -> list[Row]:
    """Every requested row of one model, ``args.rounds`` interleaved rounds after a warm-up."""
    import keras
    import tensorflow as tf

    from iqa_keras.scoring import Scorer
    from iqa_keras.utils.flops import count_flops

    section = model_section(name, args.nr_input_size if name == "nr" else args.input_size)
    size = int(section["input_size"])
    full_reference = name != "nr"
    keras.utils.set_random_seed(args.seed)
    model = build(section)
    flops = count_flops(model)
    if args.precision == "bf16":
        from iqa_keras.utils.precision import set_precision

        set_precision(model, "bf16")
    # Work per round: --pairs of fr_simple's work, in whole batches (a cheap model does up to 4x the pairs).
    scale = float(np.clip(reference_flops / flops, 0.0, 4.0)) * args.pairs
    unit = "pairs" if full_reference else "images"
    plans = []
    rng = np.random.default_rng(args.seed)
    n_predict = max(whole_batches(scale, 16), whole_batches(scale, 64))
    images = [rng.uniform(0, 255, (n_predict, size, size, 3)).astype("float32") for _ in range(2)]
    inputs = lambda n: [x[:n] for x in images] if full_reference else images[1][:n]  # noqa: E731

    if "train" in args.work and full_reference:
        trainer = build_for_training(section, args.precision)
        batch = [x[:TRAIN_BATCH] for x in images]
        targets = rng.uniform(0, 1, (TRAIN_BATCH, 1)).astype("float32")
        # Prefetched, as the training pipeline is: without it each step also waits for the iterator to
        # hand over the batch (measured 1.27 against 0.82 s per fr_simple step at 288).
        data = tf.data.Dataset.from_tensors((tuple(batch), targets)).repeat().prefetch(2)
        steps = whole_batches(scale, TRAIN_BATCH) // TRAIN_BATCH
        trainer.fit(data, steps_per_epoch=1, epochs=1, shuffle=False, verbose=0)  # warm-up: traces the step
        row = Row(name, f"train b{TRAIN_BATCH}", unit, 3 * flops / 1e9)
        plans.append((row, steps * TRAIN_BATCH,
                      lambda: trainer.fit(data, steps_per_epoch=steps, epochs=1, shuffle=False, verbose=0)))
    for batch in (16, 64):
        if f"predict{batch}" in args.work:
            n = whole_batches(scale, batch)
            model.predict(inputs(batch), batch_size=batch, verbose=0)  # warm-up
            row = Row(name, f"predict b{batch}", unit, flops / 1e9)
            plans.append((row, n, lambda n=n, b=batch: model.predict(inputs(n), batch_size=b, verbose=0)))
    files = write_pairs(folder, max(1, round(scale)) + 1, size, seed=args.seed)
    for tta in ("ntire", "none") if full_reference else ("none",):
        if tta not in args.work:
            continue
        scorer = Scorer(model, tta=tta, precision=args.precision)
        copies = len(scorer.augmentations)
        n = max(1, round(scale / 8)) if tta == "ntire" else max(1, round(scale))
        if full_reference:
            scorer.score_pairs(files[:1])  # warm-up: traces the graph
            run = lambda s=scorer, n=n: s.score_pairs(files[1:n + 1])  # noqa: E731
        else:
            scorer.score_images([files[0][1]])
            run = lambda s=scorer, n=n: s.score_images([d for _, d in files[1:n + 1]])  # noqa: E731
        row = Row(name, f"Scorer {tta} ({copies})", unit, copies * flops / 1e9)
        plans.append((row, n, run))

    for _ in range(args.rounds):
        for row, items, work in plans:
            timed(row, items, work)
    print(f"  {name}: {flops / 1e9:.3f} GFLOP per {unit[:-1]} at {size}x{size}; "
          + ", ".join(f"{row.work} {row.rounds[0][0]}" for row, _, _ in plans) + f" {unit} per round", flush=True)
    return [row for row, _, _ in plans]


# Runs a script and writes its peak resident memory (VmHWM, kB) to a file as it exits. VmHWM starts afresh
# at exec; the child's ru_maxrss does not: it counts the memory of the (large) benchmark process the child
# was forked from, which once read 7.9 GB for a script that peaks at 0.9 GB.
PEAK_WRAPPER = """
import runpy, sys
report, script = sys.argv[1], sys.argv[2]
sys.argv = sys.argv[2:]
try:
    runpy.run_path(script, run_name="__main__")
finally:
    with open("/proc/self/status") as status:
        peak = next(line.split()[1] for line in status if line.startswith("VmHWM"))
    with open(report, "w") as out:
        out.write(peak)
"""


def peak_memory(count: int, args, folder: Path, model_path: Path) -> tuple[float, float]:
    """Peak resident MB and seconds of evaluation_ntire.py scoring ``count`` pairs, in a process of its own (Linux)."""
    ref_dir, dist_dir = folder / f"ref{count}", folder / f"dist{count}"
    ref_dir.mkdir()
    dist_dir.mkdir()
    (folder / f"src{count}").mkdir()
    sources = write_pairs(str(folder / f"src{count}"), min(count, 16), args.input_size, seed=args.seed)
    for i in range(count):  # hard links: a folder of ``count`` pairs without count distinct files on disk
        ref, dist = sources[i % len(sources)]
        os.link(ref, ref_dir / f"A{i:05d}.bmp")
        os.link(dist, dist_dir / f"A{i:05d}_00_00.bmp")
    report = folder / f"peak{count}.txt"
    command = [sys.executable, "-c", PEAK_WRAPPER, str(report), str(REPO / "evaluation_ntire.py"), "--models", str(model_path),
               "--ref-dir", str(ref_dir), "--dist-dir", str(dist_dir), "--tta", args.memory_tta,
               "--output", str(folder / f"output{count}.txt")]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    with open(folder / f"stderr{count}.txt", "wb") as stderr:
        start = time.perf_counter()
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=stderr, env=env, cwd=REPO)
        status = process.wait()
        elapsed = time.perf_counter() - start
    if status:
        tail = (folder / f"stderr{count}.txt").read_text(errors="replace")[-2000:]
        raise RuntimeError(f"evaluation_ntire.py failed on {count} pairs:\n{tail}")
    return int(report.read_text()) / 1024, elapsed


def spread(values) -> str:
    return f"{statistics.median(values):8.2f} ({min(values):.2f}-{max(values):.2f})"


def print_table(rows: list[Row], ceiling: float) -> None:
    print(f"\n{'model':<13}{'work':<18}{'per second: median (min-max)':<34}{'CPU-s each':>11}"
          f"{'GFLOP each':>11}{'GFLOP/s':>9}{'of ceiling':>11}")
    for row in rows:
        rate = statistics.median(row.rates())
        achieved = rate * row.gflop_per_item
        print(f"{row.model:<13}{row.work:<18}{spread(row.rates()) + ' ' + row.unit:<34}"
              f"{row.cpu_per_item():>11.3f}{row.gflop_per_item:>11.2f}{achieved:>9.1f}{achieved / ceiling:>10.0%}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", choices=MODELS, default=list(MODELS),
                        help="networks to measure (default: all; nr is the no-reference preset's network)")
    parser.add_argument("--work", nargs="+", choices=WORK, default=list(WORK),
                        help="rows per network: train, predict16, predict64, ntire, none (default: all)")
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds; medians are reported (default 3)")
    parser.add_argument("--pairs", type=int, default=64,
                        help="pairs per round at fr_simple's FLOPs, scaled for other networks (default 64; "
                        "the ntire rows do an eighth)")
    parser.add_argument("--input-size", type=int, default=288,
                        help="FR input and image size (default 288; a multiple of 16, of 72 for fr_tiled)")
    parser.add_argument("--nr-input-size", type=int, default=None, help="NR input size (default: the preset's)")
    parser.add_argument("--matmul-size", type=int, default=2048, help="N of the N x N ceiling matmul (default 2048)")
    parser.add_argument("--matmul-repeats", type=int, default=8, help="matmuls per ceiling round (default 8)")
    parser.add_argument("--skip-memory", action="store_true", help="skip the peak-memory measurement")
    parser.add_argument("--memory-pairs", type=int, nargs=2, default=[100, 1000], metavar=("SMALL", "LARGE"),
                        help="folder sizes of the peak-memory measurement (default 100 1000)")
    parser.add_argument("--memory-tta", default="none", help="TTA of the peak-memory runs (default none)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--precision", choices=("fp32", "bf16"), default="fp32",
                        help="arithmetic of every row: fp32, or bf16 (mixed_bfloat16 training, bf16 predict and "
                        "Scorer); the ceiling stays the fp32 matmul rate (default fp32)")
    args = parser.parse_args(argv)
    if args.rounds < 1 or args.pairs < 1:
        parser.error("--rounds and --pairs must be positive")
    if args.nr_input_size is None:
        args.nr_input_size = int(model_section("nr", 0)["input_size"])

    import keras
    import tensorflow as tf

    import iqa_keras
    from iqa_keras.utils.flops import count_flops

    print(f"TensorFlow {tf.__version__}, Keras {keras.__version__}, iqa_keras from {Path(iqa_keras.__file__).parent}; "
          f"{os.cpu_count()} CPU cores; threads intra-op {tf.config.threading.get_intra_op_parallelism_threads()}, "
          f"inter-op {tf.config.threading.get_inter_op_parallelism_threads()} (0: TensorFlow's choice); "
          f"load average {os.getloadavg()[0]:.2f} at start; networks in {args.precision}", flush=True)
    rates = matmul_ceiling(args.matmul_size, args.matmul_repeats, args.rounds)
    ceiling = statistics.median(rates)
    print(f"ceiling: float32 matmul {args.matmul_size}x{args.matmul_size}: {spread(rates).strip()} GFLOP/s "
          f"(median (min-max) of {args.rounds} rounds of {args.matmul_repeats})", flush=True)

    reference_flops = count_flops(build(model_section("fr_simple", args.input_size)))
    keras.backend.clear_session()
    rows = []
    with tempfile.TemporaryDirectory(prefix="iqa-throughput-") as temp:
        for name in args.models:
            folder = Path(temp) / name
            folder.mkdir()
            rows += measure_model(name, args, reference_flops, str(folder))
            keras.backend.clear_session()  # the network and its arrays go before the next is built
            gc.collect()
        print_table(rows, ceiling)
        print(f"load average {os.getloadavg()[0]:.2f} at the end", flush=True)

        if not args.skip_memory:
            from iqa_keras import save_model

            model_path = Path(temp) / "fr_simple.keras"
            save_model(build(model_section("fr_simple", args.input_size)), model_path)
            print(f"\npeak resident memory of evaluation_ntire.py (fr_simple, {args.input_size}x{args.input_size} "
                  f"pairs, TTA {args.memory_tta}), each folder in its own process:", flush=True)
            peaks = []
            for count in args.memory_pairs:
                peak, elapsed = peak_memory(count, args, Path(temp), model_path)
                peaks.append(peak)
                print(f"  {count:>6} pairs: {peak:8.1f} MB  ({elapsed:.1f} s)", flush=True)
            small, large = args.memory_pairs
            print(f"  ratio {large}/{small} pairs: {peaks[1] / peaks[0]:.3f} (target: at most 1.10)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
