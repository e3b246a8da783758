"""The ``iqa-keras`` command line: one module per subcommand.

``models``, ``train``, ``score``, ``jpeg-check``, ``export`` and ``experiment`` are
subcommands of ``iqa-keras``; ``evaluation_single_image.py`` and
``evaluation_ntire.py`` at the repository root call :mod:`.single_image`
and :mod:`.ntire`. Each module declares its arguments and runs its command;
the work itself lives in the library.
"""
from __future__ import annotations

import argparse
import sys

from . import experiment, export, jpeg_check, models, score, train

SUBCOMMANDS = (models, train, score, jpeg_check, export, experiment)


def version_text() -> str:
    """``iqa-keras X (keras Y, tensorflow Z)``: read from the installed metadata, without importing TensorFlow."""
    from importlib import metadata

    from ..version import __version__

    found = []
    for name in ("keras", "tensorflow"):
        try:
            found.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            found.append(f"{name} not installed")
    return f"iqa-keras {__version__} ({', '.join(found)})"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="iqa-keras", description="Keras 3 image quality assessment model zoo."
    )
    parser.add_argument("--version", action="version", version=version_text())
    sub = parser.add_subparsers(dest="command", required=True)
    for module in SUBCOMMANDS:
        module.add_parser(sub)
    return parser


def evaluation_single_image(argv: list[str] | None = None) -> int:
    """Entry point of ``evaluation_single_image.py``."""
    from .single_image import main as single_image_main

    return single_image_main(argv)


def evaluation_ntire(argv: list[str] | None = None) -> int:
    """Entry point of ``evaluation_ntire.py``."""
    from .ntire import main as ntire_main

    return ntire_main(argv)


def main(argv: list[str] | None = None) -> int:
    from .common import run

    args = build_parser().parse_args(argv)
    return run(f"iqa-keras {args.command}", args.func, args)


if __name__ == "__main__":
    sys.exit(main())
