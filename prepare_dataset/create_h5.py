"""Any supported dataset folders -> HDF5 stores per split (same as ``iqa-keras prepare``).

    python prepare_dataset/create_h5.py --dataset kadid10k=/data/kadid10k --out data/ --size 288
"""
import sys

from iqa_keras.data.prepare import main

if __name__ == "__main__":
    sys.exit(main())
