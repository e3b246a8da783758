#!/usr/bin/env python3
"""Score one (reference, distorted) pair with the models in models/ (or --models).

    python evaluation_single_image.py --ref R --distorted D [--models PATH] [--tta ntire]
                                      [--figure result.png] [--heatmap map.png]

All work happens in ``iqa_keras`` (``iqa_keras.cli.single_image``); see ``--help``.
"""
import sys

from iqa_keras.cli import evaluation_single_image

if __name__ == "__main__":
    sys.exit(evaluation_single_image())
