"""PieAPP + TID2008 + TID2013 -> data/data_train.h5, data_val.h5 (+ data_test.h5: PieAPP's test split).

The seed's pretraining data: TID images centre-cropped to 288, PieAPP's
256 x 256 images zero-padded to 288, scores standardised per dataset with the
seed's constants (PieAPP 0.47/0.26, TID 4.47/1.30), reference image first.
Unlike the seed, the train/validation split is by content (TID2008 and TID2013
share their scenes, and keep them on one side).

    python prepare_dataset/create_data_pieapp_tid.py --pieapp /data/PieAPPdataset \
        --tid2008 /data/tid2008 --tid2013 /data/tid2013 --out data/
"""
import argparse
import sys

from iqa_keras.data.prepare import main

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pieapp")
    parser.add_argument("--tid2008")
    parser.add_argument("--tid2013")
    parser.add_argument("--out", default="data")
    parser.add_argument("--size", default="288")
    parser.add_argument("--seed", default="0")
    args, rest = parser.parse_known_args()
    argv = [f"--dataset={name}={root}" for name, root in
            (("pieapp", args.pieapp), ("tid2008", args.tid2008), ("tid2013", args.tid2013)) if root]
    if not argv:
        parser.error("name at least one of --pieapp, --tid2008, --tid2013")
    sys.exit(main(argv + ["--out", args.out, "--size", args.size, "--seed", args.seed, "--prefix", "data"] + rest))
