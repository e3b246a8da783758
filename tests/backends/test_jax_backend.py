"""The architectures, layers and losses give the same outputs on the JAX backend as on TensorFlow.

Models are built and saved here (TensorFlow), with every weight redrawn so
that no output is degenerate (a randomly initialised NIMA pools to a
constant), then scored by ``backend_outputs.py`` in this process and in a
subprocess with ``KERAS_BACKEND=jax``. Needs the ``backends`` extra
(``pip install -e ".[backends]"``); marked ``backends`` and run by CI as a
separate step.
"""
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest

import iqa_keras
from helpers import redraw_weights

pytestmark = [
    pytest.mark.backends,
    pytest.mark.skipif(importlib.util.find_spec("jax") is None,
                       reason="jax is not installed: pip install -e \".[backends]\""),
]

SCRIPT = Path(__file__).with_name("backend_outputs.py")
ARCHITECTURES = {
    "fr_simple": dict(dense_num=8),
    "fr_bn": dict(dense_num=8),
    "fr_attention": dict(dense_num=8),
    "fr_tiled": dict(dense_num=8, tile_size=16, lstm_units=4),
    "nima": dict(alpha=0.35),
    "nima_regression": dict(alpha=0.35, features=8),
    "nima_regression+local_contrast": dict(alpha=0.35, features=8, normalize="local_contrast"),  # builder+variant
    "resnet18": dict(width=8),
    "ranking16": dict(),
}
LOSSES = {
    "mse": {}, "pearson": {}, "surrogate_spearman": {}, "fr_loss": {"mse_factor": 0.7, "spearman_factor": 0.1},
    "emd": {}, "chi_square": {}, "moments_mse": {}, "nima": {},
    "bias_aware": {"biases": [[0.1, 1.2, 0.0, 0.0], [-0.3, 0.8, 0.05, 0.0]], "mse_weight": 0.5},
}


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("backends")
    rng = np.random.default_rng(0)
    inputs = {}
    for name, options in ARCHITECTURES.items():
        keras.utils.set_random_seed(0)
        builder = name.split("+")[0]
        model = (iqa_keras.build_model(builder, **options) if builder == "ranking16"
                 else iqa_keras.build_model(builder, input_size=32, **options))
        redraw_weights(model, rng)
        iqa_keras.save_model(model, folder / f"{name}.keras")
        for i, tensor in enumerate(model.inputs):
            scale = 255.0 if len(tensor.shape) == 4 else 1.0
            inputs[f"{name}/{i}"] = (scale * rng.uniform(size=(3, *tensor.shape[1:]))).astype("float32")
    np.savez(folder / "inputs.npz", **inputs)
    (folder / "losses.json").write_text(json.dumps(LOSSES))
    hist = rng.uniform(0.01, 1, (2, 4, 10))
    hist /= hist.sum(-1, keepdims=True)
    mos = rng.uniform(1, 5, (20, 1))
    pred = 0.3 * mos + rng.normal(size=(20, 1))
    np.savez(folder / "loss_data.npz", **{
        "score/true": mos.astype("float32"), "score/pred": pred.astype("float32"),
        "histogram/true": hist[0].astype("float32"), "histogram/pred": hist[1].astype("float32"),
        "bias/true": np.concatenate([mos, np.arange(20)[:, None] % 2], 1).astype("float32"),
        "bias/pred": pred.astype("float32")})
    for backend in ("tensorflow", "jax"):
        env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3",
               "PYTHONPATH": os.pathsep.join([str(Path(iqa_keras.__file__).parents[1]), os.environ.get("PYTHONPATH", "")])}
        done = subprocess.run([sys.executable, str(SCRIPT), str(folder)], env=env, capture_output=True, text=True,
                              timeout=1200)
        assert done.returncode == 0, f"{backend}:\n{done.stdout}\n{done.stderr[-4000:]}"
    return {backend: dict(np.load(folder / f"outputs_{backend}.npz")) for backend in ("tensorflow", "jax")}


@pytest.mark.parametrize("name", sorted(ARCHITECTURES))
def test_architecture_outputs_agree(outputs, name):
    tf_out, jax_out = outputs["tensorflow"][f"model/{name}"], outputs["jax"][f"model/{name}"]
    spread = np.ptp(tf_out, axis=0).max()  # across inputs
    assert np.all(np.isfinite(tf_out)) and spread > 1e-4, f"{name}: outputs hardly depend on the input {tf_out}"
    np.testing.assert_allclose(jax_out, tf_out, rtol=1e-6, atol=1e-5, err_msg=name)


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_loss_values_agree(outputs, name):
    tf_value, jax_value = outputs["tensorflow"][f"loss/{name}"], outputs["jax"][f"loss/{name}"]
    np.testing.assert_allclose(jax_value, tf_value, rtol=1e-6, atol=1e-5, err_msg=name)


@pytest.mark.parametrize("backend", ["tensorflow", "jax"])
def test_bias_updates_reach_the_training_loss(outputs, backend):
    """Learning rate 0: only the biases change; epoch 2 must already use the biases fitted after epoch 1."""
    history = outputs[backend]["bias/history"]
    np.testing.assert_allclose(outputs[backend]["bias/biases"], [[0, 1, 0, 0], [1, 2, 0, 0]], atol=1e-4)
    assert history[0] > 0.5 and history[1] < 1e-6 and history[2] < 1e-6, history
    assert outputs[backend]["bias/evaluate"] < 1e-6
