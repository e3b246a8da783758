"""``ClassicalMetric``: what the registry holds for each classical full-reference metric."""
from __future__ import annotations

import dataclasses
from typing import Callable


@dataclasses.dataclass(frozen=True)
class ClassicalMetric:
    """One classical full-reference metric, as registered in ``iqa_keras.registry.FR_METRICS``.

    ``function(reference, distorted) -> (batch,)`` float32 takes two
    ``(batch, H, W, 3)`` RGB float tensors on [0, 255] and runs eagerly or
    inside a ``tf.function``. ``higher_is_better`` is the direction of the
    score (GMSD is a distance: lower is better). ``min_size``: the smallest
    height and width the metric is defined for (its windows and scales must
    fit in the image).
    """

    name: str
    function: Callable
    higher_is_better: bool
    description: str
    min_size: int = 1

    def __call__(self, reference, distorted):
        return self.function(reference, distorted)


def check_pair(reference, distorted, name: str, min_size: int = 1) -> None:
    """Raises a ValueError naming ``name`` when the static shapes of a pair are not two equal RGB batches.

    Dimensions unknown at graph-building time are not checked here.
    """
    shapes = [tuple(getattr(x, "shape", ())) for x in (reference, distorted)]
    for shape in shapes:
        if len(shape) != 4 or shape[-1] not in (3, None):
            raise ValueError(f"{name}: expected RGB batches of shape (batch, H, W, 3), got "
                             f"reference {shapes[0]} and distorted {shapes[1]}")
    if any(a is not None and b is not None and a != b for a, b in zip(*shapes)):
        raise ValueError(f"{name}: reference and distorted differ in shape: {shapes[0]} and {shapes[1]}")
    sides = [s for s in shapes[0][1:3] if s is not None]
    if sides and min(sides) < min_size:
        raise ValueError(f"{name}: images must be at least {min_size} x {min_size} pixels, got "
                         f"{shapes[0][1]} x {shapes[0][2]} (height x width)")
