"""The JPEG check of the Keras NIMA reproduction: does a no-reference score fall as JPEG quality falls?

Each image is JPEG-encoded at qualities 90, 80, ..., 20; a model that tracks
quality scores them in the same order, so the Spearman correlation between
JPEG quality and predicted score should be close to +1 (and that between
quality and the feature distance to the original, close to -1).
"""
from __future__ import annotations

import io
import math

import numpy as np

from ..data.images import read_image
from ..metrics import srcc
from .scorer import Scorer, cosine_distance

DEFAULT_QUALITIES = (90, 80, 70, 60, 50, 40, 30, 20)


def jpeg_versions(image: np.ndarray, qualities) -> list[np.ndarray]:
    """The image JPEG-encoded (PIL, 4:2:0) and decoded again at each quality."""
    from PIL import Image

    versions = []
    for quality in qualities:
        buffer = io.BytesIO()
        Image.fromarray(image).save(buffer, format="JPEG", quality=int(quality))
        buffer.seek(0)
        with Image.open(buffer) as decoded:
            versions.append(np.asarray(decoded.convert("RGB")).copy())
    return versions


def jpeg_check(scorer: Scorer, paths, qualities=DEFAULT_QUALITIES, progress=None) -> dict:
    """Per image: scores at each JPEG quality, Spearman(quality, score), Spearman(quality, feature distance).

    Returns ``{"images": [...], "mean_srcc_score": ..., "mean_srcc_distance": ..., "share_monotone": ...}``;
    a score that "falls as quality falls" gives SRCC +1 (for a lower-is-better
    model the sign is flipped so that +1 still means "tracks quality").
    """
    if len(qualities) < 2:
        raise ValueError(f"jpeg-check needs at least two qualities, got {list(qualities)}")
    sign = 1.0 if scorer.info.higher_is_better else -1.0
    rows = []
    for index, path in enumerate(paths, start=1):
        image = read_image(path)
        _, original_features = scorer.outputs(image)
        scores, distances = [], []
        for version in jpeg_versions(image, qualities):
            output, features = scorer.outputs(version)
            scores.append(scorer.output_fields(output)["score"])
            distances.append(cosine_distance(original_features, features))
        score_srcc = srcc(qualities, np.asarray(scores) * sign)
        distance_srcc = srcc(qualities, distances)
        rows.append({
            "image": str(path),
            "srcc_score": None if math.isnan(score_srcc) else score_srcc,
            "srcc_distance": None if math.isnan(distance_srcc) else distance_srcc,
            **{f"score_q{q}": s for q, s in zip(qualities, scores)},
            **{f"distance_q{q}": d for q, d in zip(qualities, distances)},
        })
        if progress:
            progress(index)
    valid = [r["srcc_score"] for r in rows if r["srcc_score"] is not None]
    valid_distance = [r["srcc_distance"] for r in rows if r["srcc_distance"] is not None]
    return {
        "qualities": list(qualities),
        "images": rows,
        "mean_srcc_score": float(np.mean(valid)) if valid else None,
        "mean_srcc_distance": float(np.mean(valid_distance)) if valid_distance else None,
        "share_monotone": float(np.mean([v >= 1.0 - 1e-9 for v in valid])) if valid else None,
    }
