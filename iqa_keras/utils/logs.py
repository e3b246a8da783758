"""The package's messages go through ``logging``; the command line shows them on stderr.

Every module logs to a child of the ``"iqa_keras"`` logger. As a library the
package adds no handler of its own (Python's convention), so a program that
imports it decides what is shown: ``logging.basicConfig(level=logging.INFO)``
shows the messages the command line prints. The commands call
:func:`show_messages`, which prints them as plain lines on stderr, leaving
stdout to results (scores, tables, Keras' epoch lines).
"""
from __future__ import annotations

import logging
import sys

ROOT = "iqa_keras"


class _CurrentStderr(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is at the time of each message (redirections and test capture included)."""

    def __init__(self):
        super().__init__(sys.stderr)

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value):  # StreamHandler sets it once; the current stderr is always used instead
        pass


def show_messages(level: int = logging.INFO) -> None:
    """Shows the package's messages from ``level`` up as plain lines on stderr; calling it again adds nothing."""
    logger = logging.getLogger(ROOT)
    logger.setLevel(level)
    if not any(isinstance(handler, _CurrentStderr) for handler in logger.handlers):
        handler = _CurrentStderr()
        handler.setFormatter(logging.Formatter("%(message)s"))
        logger.addHandler(handler)
