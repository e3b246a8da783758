"""How a failed command ends: one line on stderr naming what was wrong, and an exit status.

* 2: bad input, found before (or instead of) the work: a config error, a
  missing or unreadable file, an unwritable output path, a broken image.
  ``OSError`` messages name the user's path (``out/: is a folder; ...``).
* 1: the run itself failed (training diverged to a non-finite loss) or an
  internal error; the latter prints the exception's first line, and its
  traceback only when ``IQA_KERAS_TRACEBACK=1`` is set.

No Python traceback is printed for bad input.
"""
from __future__ import annotations

import os
import sys
import traceback

BAD_INPUT, FAILED = 2, 1
TRACEBACK_ENV = "IQA_KERAS_TRACEBACK"


def _tensorflow_error(error: BaseException):
    """``error`` as a ``tf.errors.OpError`` when it is one (TensorFlow is only looked at when loaded)."""
    tf = sys.modules.get("tensorflow")
    if tf is not None and isinstance(error, tf.errors.OpError):
        return error
    return None


def _first_line(text: str) -> str:
    lines = [line.strip() for line in str(text).splitlines() if line.strip()]
    return lines[0] if lines else ""


def describe(error: BaseException) -> tuple[str, int]:
    """(message, exit status) of an exception raised by a command."""
    if isinstance(error, OSError) and error.filename is not None:
        where = os.fspath(error.filename)
        if error.filename2 is not None:
            where += f" -> {os.fspath(error.filename2)}"
        return f"{where}: {error.strerror or error}", BAD_INPUT
    if isinstance(error, (ValueError, TypeError, OSError, LookupError)):
        return str(error).strip() or type(error).__name__, BAD_INPUT
    op_error = _tensorflow_error(error)
    if op_error is not None:  # e.g. an image that changed after it was checked
        message = _first_line(op_error.message.split("}}")[-1]) or type(error).__name__
        tf = sys.modules["tensorflow"]
        bad_data = isinstance(error, (tf.errors.InvalidArgumentError, tf.errors.NotFoundError))
        return f"TensorFlow {type(error).__name__}: {message}", BAD_INPUT if bad_data else FAILED
    if isinstance(error, (RuntimeError, ArithmeticError)):
        return _first_line(str(error)) or type(error).__name__, FAILED
    hint = "" if os.environ.get(TRACEBACK_ENV) else f" (set {TRACEBACK_ENV}=1 for the traceback)"
    return f"internal error: {type(error).__name__}: {_first_line(str(error))}{hint}", FAILED


def report(prog: str, error: BaseException) -> int:
    """Prints ``prog: error: message`` to stderr; returns the exit status."""
    message, status = describe(error)
    if status == FAILED and os.environ.get(TRACEBACK_ENV):
        traceback.print_exception(error, file=sys.stderr)
    print(f"{prog}: error: {message}", file=sys.stderr)
    return status
