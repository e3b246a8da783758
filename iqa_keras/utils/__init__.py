"""Helpers every layer may use: atomic file writes, output-path checks, a progress bar, figures."""
from .atomic import atomic_path, atomic_write_bytes, atomic_write_text, remove_stale_temporaries  # noqa: F401
from .paths import check_output_dir, check_output_file  # noqa: F401
