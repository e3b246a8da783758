"""Helpers every layer may use: atomic file writes, a progress bar, figures."""
from .atomic import atomic_path, atomic_write_bytes, atomic_write_text  # noqa: F401
