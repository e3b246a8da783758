"""Every figure the tools draw (matplotlib, written atomically as PNG).

Figures are ``matplotlib.figure.Figure`` objects drawn straight to PNG, not
through ``pyplot``: importing this module leaves the process's Matplotlib
backend alone (a notebook keeps its inline backend) and keeps no figure open.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from .atomic import atomic_path


def subplots(nrows: int = 1, ncols: int = 1, figsize=None, **options):
    """``(figure, axes)`` like ``pyplot.subplots``, without pyplot's global state."""
    figure = Figure(figsize=figsize)
    return figure, figure.subplots(nrows, ncols, **options)


def save_figure(figure, path) -> Path:
    """Saves a figure as PNG under a temporary name, then renames it."""
    path = Path(path)
    with atomic_path(path, suffix=".png") as temporary:
        figure.savefig(temporary, dpi=110, bbox_inches="tight")
    return path


def scatter_predictions(predictions, targets, path, title: str = "", db=None,
                        units: str = "standardised") -> Path:
    """Predicted score against MOS, one colour per dataset, with the identity line."""
    predictions, targets = np.ravel(predictions), np.ravel(targets)
    figure, axis = subplots(figsize=(5, 5))
    groups = [(None, np.ones_like(targets, bool))] if db is None else [
        (name, np.asarray(db) == name) for name in sorted(set(np.asarray(db).tolist()))
    ]
    for name, mask in groups:
        axis.scatter(targets[mask], predictions[mask], s=10, alpha=0.6, label=name)
    low = float(min(targets.min(), predictions.min()))
    high = float(max(targets.max(), predictions.max()))
    axis.plot([low, high], [low, high], color="grey", linewidth=1, linestyle="--")
    axis.set_xlabel(f"MOS ({units})" if units else "MOS")
    axis.set_ylabel(f"prediction ({units})" if units else "prediction")
    axis.set_title(title)
    if db is not None:
        axis.legend(fontsize=8)
    axis.grid(alpha=0.3)
    return save_figure(figure, path)


def _history_panel(axis, epochs, history: list[dict], keys, ylabel: str) -> None:
    """One learning-curve panel: each of ``keys`` present in the history, per epoch."""
    for key in keys:
        if key in history[0]:
            axis.plot(epochs, [row.get(key, np.nan) for row in history], marker="o", label=key)
    axis.set_xlabel("epoch")
    axis.set_ylabel(ylabel)
    axis.legend()
    axis.grid(alpha=0.3)


def learning_curves(history: list[dict], path) -> Path:
    """Training/validation loss and validation SRCC/PLCC per epoch."""
    epochs = [row["epoch"] + 1 for row in history]
    figure, (left, right) = subplots(1, 2, figsize=(10, 4))
    _history_panel(left, epochs, history, ("loss", "val_loss"), "loss")
    _history_panel(right, epochs, history, ("val_srcc", "val_plcc", "val_krcc"), "correlation")
    return save_figure(figure, path)


def plot_pair_result(reference, distorted, score: float, path, label: str = "IQA Score") -> Path:
    """The two images side by side with the score in the distorted image's title (the NTIRE 2021 reference's result.png)."""
    figure, (left, right) = subplots(1, 2, figsize=(10, 5.2))
    left.imshow(reference)
    left.set_title("Reference Image")
    right.imshow(distorted)
    right.set_title(f"Distorted Image, {label}: {score:.2f}")
    for axis in (left, right):
        axis.axis("off")
    return save_figure(figure, path)


def plot_patch_heatmap(
    distorted,
    boxes,
    patch_scores,
    score_map,
    path,
    higher_is_better: bool = True,
    label: str = "score",
    max_labels: int = 64,
    pooled: tuple[str, float] | None = None,
) -> Path:
    """Per-patch scores drawn over the distorted image.

    ``boxes`` are the patches' ``(top, left, bottom, right)`` in the image;
    ``score_map`` is the per-pixel mean of the scores of the patches covering
    each pixel (``iqa_keras.scoring.patches.coverage_map``), overlaid half-transparent.
    Each patch is outlined and, for up to ``max_labels`` patches, its score is
    written at its centre. Green means better quality in either score direction.
    ``pooled``: (rule, image score) for the title, when the patches were not
    pooled by their plain mean.
    """
    from matplotlib.patches import Rectangle

    patch_scores = np.ravel(patch_scores)
    figure, axis = subplots(figsize=(7, 6.2))
    axis.imshow(distorted)
    low, high = float(patch_scores.min()), float(patch_scores.max())
    if high - low < 1e-9:
        low, high = low - 0.5, high + 0.5
    cmap = "RdYlGn" if higher_is_better else "RdYlGn_r"
    overlay = axis.imshow(score_map, cmap=cmap, alpha=0.45, vmin=low, vmax=high)
    decimals = int(min(max(np.ceil(-np.log10(max(high - low, 1e-12))) + 1, 0), 4))
    placed: list[tuple[float, float]] = []
    for (top, left, bottom, right), value in zip(boxes, patch_scores):
        axis.add_patch(Rectangle((left - 0.5, top - 0.5), right - left, bottom - top,
                                 fill=False, edgecolor="white", linewidth=0.6, alpha=0.7))
        centre = ((left + right) / 2, (top + bottom) / 2)
        spacing = min(right - left, bottom - top) / 2.5  # overlapping patches: label only well-separated centres
        if len(patch_scores) <= max_labels and all(
            abs(centre[0] - x) >= spacing or abs(centre[1] - y) >= spacing for x, y in placed
        ):
            placed.append(centre)
            axis.text(*centre, f"{value:.{decimals}f}", ha="center", va="center", fontsize=7,
                      bbox=dict(boxstyle="round,pad=0.15", fc="white", alpha=0.6, lw=0))
    colorbar = figure.colorbar(overlay, ax=axis, fraction=0.046, pad=0.04)
    colorbar.formatter.set_useOffset(False)
    colorbar.update_ticks()
    direction = "higher is better" if higher_is_better else "lower is better"
    colorbar.set_label(f"patch {label} ({direction})")
    rule, value = pooled if pooled is not None else ("mean", float(patch_scores.mean()))
    axis.set_title(f"{len(patch_scores)} patches, {rule} {label}: {value:.{max(decimals, 2)}f}")
    axis.axis("off")
    return save_figure(figure, path)


def nima_distributions(pred_means, true_means, pred_stds, true_stds, path, title: str = "") -> Path:
    """NIMA: histograms of predicted and true mean scores (left) and standard deviations (right), bins 1..10."""
    figure, (left, right) = subplots(1, 2, figsize=(10, 4))
    mean_edges = np.linspace(1.0, 10.0, 37)
    std_high = float(max(np.max(true_stds), np.max(pred_stds), 1e-3))
    std_edges = np.linspace(0.0, std_high * 1.05, 30)
    for axis, (pred, true, edges, name) in zip(
        (left, right),
        ((pred_means, true_means, mean_edges, "mean score"), (pred_stds, true_stds, std_edges, "standard deviation")),
    ):
        axis.hist(np.ravel(true), bins=edges, alpha=0.55, label="true", color="tab:blue")
        axis.hist(np.ravel(pred), bins=edges, alpha=0.55, label="predicted", color="tab:orange")
        axis.set_xlabel(f"{name} (bins 1..10)")
        axis.set_ylabel("images")
        axis.legend()
        axis.grid(alpha=0.3)
    figure.suptitle(title or "NIMA: predicted vs true distributions")
    return save_figure(figure, path)


def jpeg_check_figure(qualities, scores, names, path, title: str = "") -> Path:
    """JPEG check: each image's predicted score against the JPEG quality it was encoded at."""
    figure, axis = subplots(figsize=(6.5, 4.5))
    for name, values in zip(names, scores):
        axis.plot(qualities, values, marker="o", linewidth=1, label=name)
    axis.set_xlabel("JPEG quality")
    axis.set_ylabel("predicted score")
    axis.invert_xaxis()
    if len(names) <= 12:
        axis.legend(fontsize=7)
    axis.grid(alpha=0.3)
    axis.set_title(title or "score vs JPEG quality")
    return save_figure(figure, path)
