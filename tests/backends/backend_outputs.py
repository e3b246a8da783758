"""Run as a script under any Keras backend: the outputs of saved models and of every loss on stored inputs.

    KERAS_BACKEND=jax python backend_outputs.py FOLDER

FOLDER holds ``*.keras`` models, ``inputs.npz`` (model name -> input arrays,
``name/0``, ``name/1``) and ``losses.json`` (loss name -> keyword options)
with ``loss_data.npz``; the script writes ``outputs_<backend>.npz``. The
test compares the file the TensorFlow backend writes with the JAX one. It
also trains a linear model with the bias-aware loss at learning rate 0, so
that only the biases change: the loss of epoch 2 must use the biases fitted
at the end of epoch 1.
"""
import json
import sys
from pathlib import Path

import keras
import numpy as np

import iqa_keras
from iqa_keras import losses


def main(folder: Path) -> None:
    results = {}
    inputs = np.load(folder / "inputs.npz")
    for path in sorted(folder.glob("*.keras")):
        model = iqa_keras.load_model(path)
        arrays = [inputs[f"{path.stem}/{i}"] for i in range(len(model.inputs))]
        results[f"model/{path.stem}"] = keras.ops.convert_to_numpy(
            model(arrays if len(arrays) > 1 else arrays[0], training=False))
    data = np.load(folder / "loss_data.npz")
    for name, options in json.loads((folder / "losses.json").read_text()).items():
        loss = losses.get(name, **options)
        kind = "histogram" if name in ("emd", "chi_square", "moments_mse", "nima") else (
            "bias" if name == "bias_aware" else "score")
        value = loss(keras.ops.convert_to_tensor(data[f"{kind}/true"]), keras.ops.convert_to_tensor(data[f"{kind}/pred"]))
        results[f"loss/{name}"] = np.asarray(keras.ops.convert_to_numpy(value))
    results.update(bias_run())
    np.savez(folder / f"outputs_{keras.backend.backend()}.npz", **results)


def bias_run() -> dict:
    """Dataset "b" rates 2 q + 1 where "a" rates q; the model predicts q exactly and never changes."""
    from iqa_keras.losses import BiasAwareLoss
    from iqa_keras.training.bias import BiasUpdater

    rng = np.random.default_rng(1)
    weights = np.array([[0.8], [-0.5], [0.3], [0.2]], dtype="float32")
    x = rng.normal(size=(64, 4)).astype("float32")
    quality = (x @ weights)[:, 0]
    db = np.arange(64) % 2
    mos = np.where(db == 1, 2.0 * quality + 1.0, quality)
    y = np.stack([mos, db], axis=1).astype("float32")
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1, use_bias=False)])
    model.layers[0].set_weights([weights])
    loss = BiasAwareLoss(datasets=["a", "b"], anchor_db="a", r_th=0.5)
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.0), loss=loss)
    updater = BiasUpdater(loss, lambda m: (m.predict(x, verbose=0).ravel(), mos, db), verbose=0)
    history = model.fit(x, y, epochs=3, batch_size=64, shuffle=False, verbose=0, callbacks=[updater])
    return {"bias/history": np.array(history.history["loss"]), "bias/biases": loss.get_biases(2),
            "bias/evaluate": np.array(model.evaluate(x, y, batch_size=64, verbose=0))}


if __name__ == "__main__":
    main(Path(sys.argv[1]))
