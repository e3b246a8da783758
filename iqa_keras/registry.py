"""Name -> builder tables, so configs and the CLI can refer to things by name.

Architectures and losses register themselves where they are defined;
dataset sources (readers) are registered by ``iqa_keras.data.readers``,
distortion types by ``iqa_keras.data.distortions`` and classical
full-reference metrics by ``iqa_keras.metrics.classical``.
"""
from __future__ import annotations

from typing import Callable, Dict, Iterator


class Registry:
    """A small mapping from names to builders with helpful lookup errors."""

    def __init__(self, kind: str):
        self.kind = kind
        self._builders: Dict[str, Callable] = {}

    def register(self, name: str) -> Callable[[Callable], Callable]:
        """Decorator: ``@ARCHITECTURES.register("fr_simple")``."""

        def decorator(builder: Callable) -> Callable:
            if name in self._builders:
                raise ValueError(f"{self.kind} {name!r} is registered twice")
            self._builders[name] = builder
            return builder

        return decorator

    def get(self, name: str) -> Callable:
        try:
            return self._builders[name]
        except KeyError:
            known = ", ".join(sorted(self._builders)) or "(none)"
            raise ValueError(f"unknown {self.kind} {name!r}; known: {known}") from None

    def names(self) -> list[str]:
        return sorted(self._builders)

    def __contains__(self, name: str) -> bool:
        return name in self._builders

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())


ARCHITECTURES = Registry("architecture")
LOSSES = Registry("loss")
DATASETS = Registry("dataset")  # dataset sources: name -> reader(root, **options) -> record table
DISTORTIONS = Registry("distortion")  # distortion types: name -> fn(image uint8 (H, W, 3), level 1..5, rng) -> image
FR_METRICS = Registry("full-reference metric")  # classical metrics: name -> ClassicalMetric
