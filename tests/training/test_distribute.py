"""train.strategy = "mirrored" on two logical CPU devices matches the default strategy."""
import json
import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent(
    """
    import json, os
    import numpy as np
    import tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    from iqa_keras.config import config_from_dict
    from iqa_keras.training import build_compiled_model, make_strategy

    config = config_from_dict({
        "model": {"architecture": "fr_simple", "input_size": 32, "dense_num": 4},
        "loss": {"name": "mse"},
        "optimizer": {"learning_rate": 1e-3},
    })
    rng = np.random.default_rng(0)
    ref = rng.uniform(0, 255, (8, 32, 32, 3)).astype("float32")
    dist = np.clip(ref + rng.normal(0, 30, ref.shape), 0, 255).astype("float32")
    y = rng.normal(size=(8, 1)).astype("float32")

    def two_steps(strategy, weights=None):
        model = build_compiled_model(config, strategy)
        if weights is not None:
            model.set_weights(weights)
        start = model.get_weights()
        data = tf.data.Dataset.from_tensor_slices(((ref, dist), y)).batch(4)
        history = model.fit(data, epochs=1, verbose=0)
        return start, history.history["loss"][0], model.get_weights()

    start, loss_default, end_default = two_steps(make_strategy("default"))
    mirrored = make_strategy("mirrored")
    _, loss_mirrored, end_mirrored = two_steps(mirrored, start)
    print(json.dumps({
        "replicas": mirrored.num_replicas_in_sync,
        "loss_default": float(loss_default),
        "loss_mirrored": float(loss_mirrored),
        "max_weight_diff": max(float(np.abs(a - b).max()) for a, b in zip(end_default, end_mirrored)),
    }))
    """
)


def test_mirrored_two_steps_match_default_strategy():
    result = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    assert figures["replicas"] == 2
    assert abs(figures["loss_default"] - figures["loss_mirrored"]) < 1e-5
    assert figures["max_weight_diff"] < 1e-5
