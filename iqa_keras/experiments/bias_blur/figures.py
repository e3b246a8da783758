"""The experiment's figures: predictions against the true MOS, and the estimated against the true biases."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .tables import IDENTITY_BIAS, SIGMA_RANGE, sigma_to_mos, true_bias


def draw_figures(out: Path, unbiased: bool = False) -> list[Path]:
    """``bias_<db>.png`` per training dataset and ``val_predictions.png``, from the best epoch."""
    from ...utils import plots
    from ...training.bias import evaluate_polynomial

    snapshot_path = Path(out) / "best_snapshot.npz"
    if not snapshot_path.is_file():
        return []
    snapshot = np.load(snapshot_path)
    datasets = [str(d) for d in snapshot["datasets"]]
    epoch = int(snapshot["epoch"]) + 1
    predictions, targets = snapshot["train_predictions"], snapshot["train_targets"]
    db_index, biases = snapshot["train_db_index"], snapshot["biases"]
    grid = np.linspace(1.0, float(sigma_to_mos(SIGMA_RANGE[0])), 200)
    written = []
    for d, label in enumerate(datasets):
        mask = db_index == d
        figure, axis = plots.subplots(figsize=(5, 4.5))
        axis.scatter(predictions[mask], targets[mask], s=14, alpha=0.7, label="training images")
        if unbiased:  # --unbiased: the MOS were not biased
            truth = IDENTITY_BIAS
        else:  # the biases the run applied (older snapshots: by the label's number)
            truth = snapshot["true_biases"][d] if "true_biases" in snapshot.files else true_bias(label)
        axis.plot(grid, evaluate_polynomial(truth, grid), color="black", label="true bias")
        axis.plot(grid, evaluate_polynomial(biases[d], grid), color="tab:red", linestyle="--",
                  label="estimated bias")
        # Keep the MOS scale in view even when an estimated curve runs far off it.
        axis.set_ylim(min(0.5, float(targets[mask].min(initial=1.0)) - 0.2), max(5.0, float(targets[mask].max(initial=5.0)) + 0.2))
        axis.set_xlabel("prediction (true quality scale)")
        axis.set_ylabel(f"MOS of {label} (biased)")
        axis.set_title(f"{label}, best epoch {epoch}: f = " + _format_polynomial(biases[d]), fontsize=9)
        axis.legend(fontsize=8)
        axis.grid(alpha=0.3)
        written.append(plots.save_figure(figure, Path(out) / f"bias_{label}.png"))
    val_predictions, val_mos = snapshot["val_predictions"], snapshot["val_mos"]
    figure, axis = plots.subplots(figsize=(5, 4.5))
    axis.scatter(val_mos, val_predictions, s=14, alpha=0.7)
    axis.plot(grid, grid, color="grey", linestyle="--", linewidth=1)
    r = float(np.corrcoef(val_predictions, val_mos)[0, 1]) if np.ptp(val_predictions) > 0 else 0.0
    axis.set_xlabel("true MOS (unbiased)")
    axis.set_ylabel("prediction")
    axis.set_title(f"validation, best epoch {epoch}: r = {r:.3f}", fontsize=9)
    axis.grid(alpha=0.3)
    written.append(plots.save_figure(figure, Path(out) / "val_predictions.png"))
    return written


def _format_polynomial(b) -> str:
    terms = [f"{b[0]:.3g}", f"{b[1]:+.3g}x"]
    terms += [f"{b[k]:+.3g}x^{k}" for k in (2, 3) if abs(b[k]) > 1e-9]
    return " ".join(terms)


# --------------------------------------------------------------------------- command line
