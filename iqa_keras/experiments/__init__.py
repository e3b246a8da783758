"""Reproductions of published experiments; ``iqa-keras experiment NAME`` runs them.

* :mod:`.bias_blur`: the synthetic experiment of the bias-aware loss paper
  (Mittag et al., QoMEX 2021).
"""
