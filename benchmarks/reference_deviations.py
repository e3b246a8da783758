#!/usr/bin/env python3
"""What the reference recipes' options change, measured on the embedded synthetic set (CPU-sized).

docs/reproducing.md explains why today's defaults differ from the NTIRE 2021
reference in a few places (1 - r instead of 1 - r^2, lightness drawn anew every
epoch instead of one offline copy, the decay timing, the checkpoint monitor,
the ConvLSTM2D gate). This script trains small variants that differ from a
base run in one of those options only, on the embedded set (96 x 96 images,
random 64 x 64 crops, 7 photographs train, 2 held out), for a few seeds, and
prints the validation SRCC/PLCC of each run's best epoch as a Markdown table.
The offline copies double an epoch's steps, so one variant gives the
on-the-fly policy the same number of steps.

    python benchmarks/reference_deviations.py [--seeds 0 1] [--epochs 16] [--out runs/reference_deviations]

About 1-3 minutes per run on 2 CPU cores (16 runs with the defaults). A
run folder that is already complete is re-evaluated, not retrained.
"""
from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

BASE = """
[model]
architecture = "{architecture}"
input_size = 64
nfs = [8, 16, 32, 64, 64, 64, 32, 16, 8, 32]
kss = [5, 5, 3, 3]
alpha = 0.5
l2 = [1e-6, 1e-4]
dense_num = 32
drop_out = 0.0
{model_extra}
[loss]
name = "fr_loss"
mse_factor = 0.5
spearman_factor = 0.1
squared_pearson = {squared}

[[data.datasets]]
name = "embedded"
crop = "random"
score_norm = "auto"
options = {{ size = 96 }}

[data]
seed = 0

[augment]
enabled = true
rot90 = true
flip_lr = true
flip_ud = true
lightness = [0.3, 1.5]
lightness_policy = "{policy}"

[optimizer]
learning_rate = 3e-4
decay_factor = 0.3
decay_every = {decay_every}
decay_offset = {offset}

[train]
epochs = {epochs}
{steps}batch_size = 16
seed = {seed}
monitor = "{monitor}"
monitor_mode = "{mode}"
verbose = 0
"""

SIMPLE = {"architecture": "fr_simple", "model_extra": ""}
TILED = {"architecture": "fr_tiled", "model_extra": "tile_size = 16\nlstm_units = 8\n"}
TODAY = {"squared": "false", "policy": "on_the_fly", "offset": 0, "monitor": "val_main", "mode": "max", "steps": ""}
# The offline copies double the pairs of an epoch (245 -> 490 here): the same number of steps with new factors.
TWICE = "steps_per_epoch = 31\n"
VARIANTS = {
    "today's defaults (1 - r, lightness on the fly, epoch // every, best val_main)": {**SIMPLE, **TODAY},
    "1 - r^2 (squared_pearson)": {**SIMPLE, **TODAY, "squared": "true"},
    "offline lightness copies (epoch = 2x pairs)": {**SIMPLE, **TODAY, "policy": "offline_copy"},
    "lightness on the fly, as many steps as the copies (steps_per_epoch = 31)": {**SIMPLE, **TODAY, "steps": TWICE},
    "floor((1 + epoch) / every) (decay_offset = 1)": {**SIMPLE, **TODAY, "offset": 1},
    "all four reference options (+ best val_loss)": {**SIMPLE, "squared": "true", "policy": "offline_copy",
                                                     "offset": 1, "monitor": "val_loss", "mode": "min", "steps": ""},
    "fr_tiled, sigmoid gate": {**TILED, **TODAY},
    "fr_tiled, hard_sigmoid gate (TF 2.4)": {**TILED, **TODAY,
                                             "model_extra": TILED["model_extra"] + 'lstm_gate = "hard_sigmoid"\n'},
}


def run(name: str, values: dict, seed: int, epochs: int, out: Path) -> dict:
    from iqa_keras.config import config_from_dict
    from iqa_keras.training import train
    import tomllib

    text = BASE.format(seed=seed, epochs=epochs, decay_every=max(epochs // 2, 1), **values)
    config = config_from_dict(tomllib.loads(text), source=f"<{name}, seed {seed}>", text=text)
    slug = "".join(c if c.isalnum() else "_" for c in name)[:40].strip("_")
    run_dir = train(config, out / f"{slug}_seed{seed}")
    return json.loads((run_dir / "metrics.json").read_text())


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--epochs", type=int, default=16)
    parser.add_argument("--out", default="runs/reference_deviations")
    parser.add_argument("--only", nargs="*", help="run only the variants whose name contains one of these words")
    args = parser.parse_args(argv)
    out = Path(args.out)
    rows = []
    for name, values in VARIANTS.items():
        if args.only and not any(word in name for word in args.only):
            continue
        results = [run(name, values, seed, args.epochs, out) for seed in args.seeds]
        srcc = [r["val"]["srcc"] for r in results]
        plcc = [r["val"]["plcc"] for r in results]
        rows.append((name, srcc, plcc, [r["best_epoch"] for r in results]))
        print(f"{name}: SRCC {srcc}, PLCC {plcc}", flush=True)
    print(f"\n| variant | val SRCC per seed ({', '.join(map(str, args.seeds))}) | mean SRCC | mean PLCC | best epochs |")
    print("|---|---|---|---|---|")
    for name, srcc, plcc, best in rows:
        print(f"| {name} | {', '.join(f'{v:.3f}' for v in srcc)} | {statistics.mean(srcc):.3f} | "
              f"{statistics.mean(plcc):.3f} | {', '.join(map(str, best))} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
