"""Where the shipped models and bundled configs are, installed or in a checkout.

The repository keeps one copy of them, in its top-level ``models/`` and
``configs/`` folders; a wheel carries the same files inside the package, as
``iqa_keras/shipped/models`` and ``iqa_keras/shipped/configs`` (see
setup.py). The installed copy wins; a checkout (the package folder beside a
``pyproject.toml``: a source tree or an editable install) uses its own
top-level folders.
"""
from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
CHECKOUT_DIR = PACKAGE_DIR.parent
SHIPPED_FOLDERS = ("models", "configs")


def shipped_dir(name: str) -> Path:
    """The folder of shipped ``"models"`` or bundled ``"configs"`` (it may be missing: callers say so)."""
    if name not in SHIPPED_FOLDERS:
        raise ValueError(f"unknown shipped folder {name!r}; expected one of {', '.join(SHIPPED_FOLDERS)}")
    installed = PACKAGE_DIR / "shipped" / name
    if installed.is_dir():
        return installed
    checkout = CHECKOUT_DIR / name
    if (CHECKOUT_DIR / "pyproject.toml").is_file() and checkout.is_dir():
        return checkout
    return installed


def bundled_configs() -> dict[str, Path]:
    """Bundled config name (file stem; ``reference/NAME`` for the reference recipes) -> file."""
    folder = shipped_dir("configs")
    if not folder.is_dir():
        return {}
    return {path.relative_to(folder).with_suffix("").as_posix(): path for path in sorted(folder.rglob("*.toml"))}


def bundled_config(name: str) -> Path | None:
    """The bundled config called ``name`` (``demo_fr_simple``, ``demo_fr_simple.toml``), or None."""
    key = name[:-5] if name.endswith(".toml") else name
    return bundled_configs().get(key)
