"""train.strategy = "mirrored" on two logical CPU devices trains like the default strategy.

The reference is the same model, started from the same weights, trained on
the same batches by the default (one-device) strategy. Batch-level losses
(Pearson, the seed loss ``fr_loss`` with its surrogate Spearman term, the
bias-aware loss) must see the whole global batch, so 2 replicas x 8 match
1 x 16; the last batch of 5 is split 3 + 2, so unequal shares are covered
too. MSE (Keras' own mean of the replicas' means) is compared on equal
shares. The same loss computed per replica (``global_batch = false``) must
not match: that shows the comparison can tell the two apart.

Pearson is compared with plain SGD: its gradient for the score layer's bias
is exactly zero, and Adam turns the rounding noise of a zero gradient into
steps of about the learning rate.
"""
import json
import subprocess
import sys
import textwrap

import pytest

SCRIPT = textwrap.dedent(
    """
    import json, sys
    import numpy as np
    import tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    import keras
    from iqa_keras.config import config_from_dict
    from iqa_keras.training import build_compiled_model, make_strategy

    mirrored = make_strategy("mirrored")  # one per process: a second one would reuse its collective keys

    def compare(loss_name, size, batch, loss_options, sgd):
        keras.utils.set_random_seed(0)
        config = config_from_dict({
            "model": {"architecture": "fr_simple", "input_size": 32, "dense_num": 4},
            "loss": {"name": loss_name, **loss_options},
        })
        rng = np.random.default_rng(0)
        ref = rng.uniform(0, 255, (size, 32, 32, 3)).astype("float32")
        dist = np.clip(ref + rng.normal(0, 30, ref.shape), 0, 255).astype("float32")
        y = rng.normal(size=(size, 1)).astype("float32")
        if loss_name == "bias_aware":  # [mos, dataset index] targets, two datasets with different biases
            y = np.concatenate([y, (np.arange(size) % 2)[:, None]], axis=1).astype("float32")

        def train(strategy, weights=None):
            model = build_compiled_model(config, strategy)
            if sgd:
                with strategy.scope():
                    model.compile(optimizer=keras.optimizers.SGD(sgd), loss=model.loss)
            if loss_name == "bias_aware":
                model.loss.set_biases([[0.0, 1.0, 0.0, 0.0], [0.3, 0.7, 0.1, 0.05]])
            if weights is not None:
                model.set_weights(weights)
            start = model.get_weights()
            data = tf.data.Dataset.from_tensor_slices(((ref, dist), y)).batch(batch)
            history = model.fit(data, epochs=2, verbose=0)
            return start, history.history["loss"], model.get_weights()

        start, loss_default, end_default = train(make_strategy("default"))
        _, loss_mirrored, end_mirrored = train(mirrored, start)
        return {
            "replicas": mirrored.num_replicas_in_sync,
            "loss_diff": max(abs(a - b) for a, b in zip(loss_default, loss_mirrored)),
            "max_weight_diff": max(float(np.abs(a - b).max()) for a, b in zip(end_default, end_mirrored)),
            "max_weight_change": max(float(np.abs(a - b).max()) for a, b in zip(start, end_default)),
        }

    print(json.dumps({name: compare(*case) for name, case in json.loads(sys.argv[1]).items()}))
    """
)

# name: (loss, samples, global batch, loss options, SGD learning rate or None for the config's Adam)
CASES = {
    "fr_loss_spearman": ("fr_loss", 37, 16, {"spearman_factor": 0.1}, None),
    "fr_loss_spearman_per_replica": ("fr_loss", 37, 16, {"spearman_factor": 0.1, "global_batch": False}, None),
}
MORE_CASES = {  # MSE and the other batch-level losses: slow (about a minute each on a busy 2-core machine)
    "mse": ("mse", 16, 8, {}, None),
    "pearson": ("pearson", 37, 16, {}, 1e-4),
    "bias_aware": ("bias_aware", 37, 16, {"mse_weight": 0.5}, None),
}
# Largest weight difference allowed: float rounding (each device sees another batch shape) is amplified
# by the Spearman term's ranking network; Adam's steps (learning rate 1e-4) bound it.
TOLERANCE = {"fr_loss_spearman": 1e-4}


def run_cases(cases):
    result = subprocess.run([sys.executable, "-c", SCRIPT, json.dumps(cases)], capture_output=True, text=True,
                            timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def figures():
    return run_cases(CASES)


def check_match(name, case):
    print(name, case)
    assert case["replicas"] == 2
    assert case["max_weight_change"] > 1e-4  # the runs did train
    assert case["loss_diff"] < 1e-4
    assert case["max_weight_diff"] < TOLERANCE.get(name, 1e-5)


def test_mirrored_matches_default_strategy_with_the_seed_loss(figures):
    check_match("fr_loss_spearman", figures["fr_loss_spearman"])


def test_per_replica_batch_loss_differs(figures):
    """``global_batch = false``: Pearson and Spearman on each replica's share, another loss."""
    assert figures["fr_loss_spearman_per_replica"]["max_weight_diff"] > 10 * figures["fr_loss_spearman"][
        "max_weight_diff"]


@pytest.mark.slow
def test_mirrored_matches_default_strategy_other_batch_losses():
    for name, case in run_cases(MORE_CASES).items():
        check_match(name, case)
