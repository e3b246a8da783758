"""iqa_keras: a Keras 3 model zoo for image quality assessment.

Public API::

    from iqa_keras import build_model, load_model, save_model, Scorer, losses, metrics
    model = build_model("fr_simple", input_size=288)
    scorer = Scorer("models/demo/demo_fr_simple.keras", tta="geometric")
    model = from_preset("pretrained_fr")        # a shipped model, checked against its sha256
    scorer = Scorer.from_preset("pretrained_fr")
"""
import os as _os

_os.environ.setdefault("KERAS_BACKEND", "tensorflow")
_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from .layers import AbsDifference, AttentionBlock, Normalize, ResidualBlock, TileImage  # noqa: E402
from .model_io import ModelInfo, load_model, read_info, save_model  # noqa: E402
from .presets import from_preset, list_presets  # noqa: E402
from .registry import ARCHITECTURES, LOSSES  # noqa: E402
from .architectures import build_model, default_hyper_parameters  # noqa: E402
from . import losses, metrics  # noqa: E402  (losses register themselves in LOSSES)
from .ranking import load_ranking_network  # noqa: E402
from .scoring import Scorer  # noqa: E402

from .version import __version__  # noqa: E402

__all__ = [
    "ARCHITECTURES",
    "LOSSES",
    "AbsDifference",
    "AttentionBlock",
    "ModelInfo",
    "Normalize",
    "ResidualBlock",
    "Scorer",
    "TileImage",
    "build_model",
    "default_hyper_parameters",
    "from_preset",
    "list_presets",
    "load_model",
    "load_ranking_network",
    "losses",
    "metrics",
    "read_info",
    "save_model",
]
