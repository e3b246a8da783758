"""The shipped weights of the 16-wide surrogate ranking network, and reading and writing them.

Losses get the pretrained network from :func:`load_ranking_network`; nothing
is downloaded: the weights ship in ``iqa_keras/ranking/weights/``.
"""
from __future__ import annotations

import os
from pathlib import Path

from ..utils.atomic import atomic_path

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
SHIPPED_WEIGHTS = WEIGHTS_DIR / "ranking16.weights.h5"
RANK_WIDTH = 16


def build_ranking_network(standardize_input: bool = True):
    """The untrained 16-wide ranking network (see ``iqa_keras.architectures.ranking``)."""
    from ..architectures.ranking import build_ranking16

    return build_ranking16(standardize_input=standardize_input)


def load_ranking_network(weights_path: str | os.PathLike | None = None, trainable: bool = False):
    """The pretrained ranking network: a Keras model mapping (batch, 16) scores to (batch, 16) ranks.

    By default it loads the weights that ship in ``iqa_keras/ranking/weights/`` (made by
    ``ranking_model/train.py``; see docs/losses.md) and freezes the model, which is
    what the surrogate Spearman loss needs. Nothing is downloaded.
    """
    path = Path(weights_path) if weights_path is not None else SHIPPED_WEIGHTS
    if not path.is_file():
        raise FileNotFoundError(
            f"ranking network weights not found: {path} (expected a .weights.h5 written by ranking_model/train.py)"
        )
    model = build_ranking_network()
    model.load_weights(str(path))
    model.trainable = trainable
    return model


def save_ranking_weights(model, path: str | os.PathLike) -> None:
    """Writes the network's weights alone (no optimizer state: ~1.9 MB) to ``path``, atomically.

    A compiled Keras 3 model would also store its optimizer's variables, which
    would triple the file that ships in the package.
    """
    bare = build_ranking_network()
    bare.set_weights(model.get_weights())
    with atomic_path(path, suffix=".weights.h5") as temporary:
        bare.save_weights(temporary, overwrite=True)
