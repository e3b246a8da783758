#!/usr/bin/env python3
"""Score a folder of distorted images for the NTIRE IQA challenge.

    python evaluation_ntire.py --ref-dir REF --dist-dir DIST [--models PATH] [--tta ntire]
                               [--output output.txt] [--zip submission.zip]

Writes ``output.txt`` (one ``name,score`` line per distorted image, in PIPAL
order) and, with ``--zip``, a submission zip with the challenge's readme.txt.
All work happens in ``iqa_keras`` (``iqa_keras.cli.ntire``); see ``--help``.
"""
import sys

from iqa_keras.cli import evaluation_ntire

if __name__ == "__main__":
    sys.exit(evaluation_ntire())
