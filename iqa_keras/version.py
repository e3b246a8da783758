"""The package version: one place, read by the build (pyproject.toml), ``iqa_keras.__version__`` and ``--version``."""
__version__ = "0.1.0"
