"""Speed work must not change fp32 results: outputs stored before it, compared to 1e-5.

``stored/fp32_outputs.json`` holds, for fixed inputs (crops of scikit-image's
astronaut and coffee photographs, blurred and noised with seeded numpy), the
Scorer's scores of the shipped full-reference models (no TTA and the 22-copy
``ntire`` TTA, on a pair larger than the input so that patching and pooling
take part) and the raw outputs of every architecture with seeded weights. It
was written before any change made for speed; rewrite it (``PYTHONPATH=tests python
tests/scoring/test_fp32_scores_unchanged.py --store``) only when a change is
meant to alter results, and say so in the commit.
"""
import json
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy import ndimage

STORED = Path(__file__).with_name("stored") / "fp32_outputs.json"
MODELS = Path(__file__).resolve().parents[2] / "models"
SCORER_MODELS = {"pretrained_fr": MODELS / "pretrained_fr.keras", "demo_fr_simple": MODELS / "demo" / "demo_fr_simple.keras"}
ARCHITECTURES = {  # name -> (input size, hyper-parameters)
    "fr_simple": (96, {}), "fr_bn": (96, {}), "fr_attention": (96, {}),
    "fr_tiled": (96, {"tile_size": 48}), "nima_regression": (96, {"alpha": 0.5, "features": 16}),
}


def _pairs():
    """Three (reference, distorted) uint8 pairs of 200 x 264: sharp against blurred, noisy, and itself."""
    from skimage import data

    rng = np.random.default_rng(0)
    pairs = []
    for image, kind in ((data.astronaut(), "blur"), (data.coffee(), "noise"), (data.astronaut(), "same")):
        ref = np.ascontiguousarray(image[40:240, 100:364])
        if kind == "blur":
            dist = ndimage.gaussian_filter(ref.astype(np.float64), sigma=(1.5, 1.5, 0))
        elif kind == "noise":
            dist = ref + rng.normal(0.0, 12.0, ref.shape)
        else:
            dist = ref.astype(np.float64)
        pairs.append((ref, np.clip(np.round(dist), 0, 255).astype(np.uint8)))
    return pairs


def _architecture_outputs(name):
    import iqa_keras

    size, options = ARCHITECTURES[name]
    from helpers import redraw_weights

    model = iqa_keras.build_model(name, input_size=size, **options)
    rng = np.random.default_rng(1)
    redraw_weights(model, rng)  # seeded weights whose outputs depend on the input (initial ones hardly do)
    inputs = [rng.uniform(0, 255, (4, size, size, 3)).astype("float32") for _ in model.inputs]
    return np.asarray(model.predict_on_batch(inputs if len(inputs) > 1 else inputs[0])).ravel()


def _scores(name, tta):
    from iqa_keras import Scorer

    return Scorer(str(SCORER_MODELS[name]), tta=tta).score_pairs(_pairs())


def current_outputs() -> dict:
    outputs = {f"scorer/{name}/{tta}": _scores(name, tta).tolist() for name in SCORER_MODELS for tta in ("none", "ntire")}
    outputs.update({f"architecture/{name}": _architecture_outputs(name).tolist() for name in ARCHITECTURES})
    return outputs


def _stored():
    return json.loads(STORED.read_text())


@pytest.mark.parametrize("name", sorted(SCORER_MODELS))
@pytest.mark.parametrize("tta", ["none", "ntire"])
def test_scorer_scores_are_the_stored_ones(name, tta):
    np.testing.assert_allclose(_scores(name, tta), _stored()[f"scorer/{name}/{tta}"], rtol=0, atol=1e-5)


@pytest.mark.parametrize("name", sorted(ARCHITECTURES))
def test_architecture_outputs_are_the_stored_ones(name):
    np.testing.assert_allclose(_architecture_outputs(name), _stored()[f"architecture/{name}"], rtol=0, atol=1e-5)


if __name__ == "__main__" and "--store" in sys.argv:
    STORED.parent.mkdir(exist_ok=True)
    STORED.write_text(json.dumps(current_outputs(), indent=1) + "\n")
    print(f"wrote {STORED}")
