"""Every figure the tools draw (matplotlib, Agg backend, written atomically)."""
from __future__ import annotations

import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def save_figure(figure, path) -> Path:
    """Saves a figure as PNG under a temporary name, then renames it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.tmp.png")
    figure.savefig(tmp, dpi=110, bbox_inches="tight")
    plt.close(figure)
    os.replace(tmp, path)
    return path


def scatter_predictions(predictions, targets, path, title: str = "", db=None) -> Path:
    """Predicted score against MOS, one colour per dataset, with the identity line."""
    predictions, targets = np.ravel(predictions), np.ravel(targets)
    figure, axis = plt.subplots(figsize=(5, 5))
    groups = [(None, np.ones_like(targets, bool))] if db is None else [
        (name, np.asarray(db) == name) for name in sorted(set(np.asarray(db).tolist()))
    ]
    for name, mask in groups:
        axis.scatter(targets[mask], predictions[mask], s=10, alpha=0.6, label=name)
    low = float(min(targets.min(), predictions.min()))
    high = float(max(targets.max(), predictions.max()))
    axis.plot([low, high], [low, high], color="grey", linewidth=1, linestyle="--")
    axis.set_xlabel("MOS (target)")
    axis.set_ylabel("prediction")
    axis.set_title(title)
    if db is not None:
        axis.legend(fontsize=8)
    axis.grid(alpha=0.3)
    return save_figure(figure, path)


def learning_curves(history: list[dict], path) -> Path:
    """Training/validation loss and validation SRCC/PLCC per epoch."""
    epochs = [row["epoch"] + 1 for row in history]
    figure, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    for key in ("loss", "val_loss"):
        if key in history[0]:
            left.plot(epochs, [row.get(key, np.nan) for row in history], marker="o", label=key)
    left.set_xlabel("epoch")
    left.set_ylabel("loss")
    left.legend()
    left.grid(alpha=0.3)
    for key in ("val_srcc", "val_plcc", "val_krcc"):
        if key in history[0]:
            right.plot(epochs, [row.get(key, np.nan) for row in history], marker="o", label=key)
    right.set_xlabel("epoch")
    right.set_ylabel("correlation")
    right.legend()
    right.grid(alpha=0.3)
    return save_figure(figure, path)
