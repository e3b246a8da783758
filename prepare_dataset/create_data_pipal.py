"""PIPAL training set -> data/pipal_train.h5, pipal_val.h5 (288 x 288, reference first).

Scores standardised with the seed's constants (1449.05 / 121.35). The seed
held all of PIPAL in memory (16 GB) and stored (distorted, reference); this
writes chunk by chunk with bounded memory, reference first, split by content.

    python prepare_dataset/create_data_pipal.py --pipal /data/PIPAL --out data/
"""
import argparse
import sys

from iqa_keras.data.prepare import main

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pipal", required=True)
    parser.add_argument("--out", default="data")
    parser.add_argument("--size", default="288")
    parser.add_argument("--seed", default="0")
    args, rest = parser.parse_known_args()
    sys.exit(main([f"--dataset=pipal={args.pipal}", "--out", args.out, "--size", args.size, "--seed", args.seed,
                   "--prefix", "pipal"] + rest))
