"""A small text progress bar on stderr (stdout stays clean for results)."""
from __future__ import annotations

import logging
import sys
import time


class ProgressBar:
    """``[#####.....] 12/40 pairs  3.1/s  ETA 9s``; redrawn in place on a terminal,
    otherwise printed as a line about every 10 % so logs stay short."""

    def __init__(self, total: int, unit: str = "items", stream=None, width: int = 30):
        self.total = max(int(total), 0)
        self.unit = unit
        self.stream = stream or sys.stderr
        self.width = width
        self.start = time.perf_counter()
        self.interactive = bool(getattr(self.stream, "isatty", lambda: False)())
        self._last_logged = -1

    @classmethod
    def for_messages(cls, total: int, unit: str = "items") -> "ProgressBar":
        """A bar for the library's long steps: drawn only where its messages are shown (see :mod:`.logs`)."""
        bar = cls(total, unit)
        bar.quiet = not logging.getLogger("iqa_keras").isEnabledFor(logging.INFO)
        return bar

    quiet = False

    def update(self, done: int) -> None:
        if self.quiet:
            return
        if not self.interactive:
            step = max(self.total // 10, 1)
            if done // step == self._last_logged and done != self.total:
                return
            self._last_logged = done // step
        elapsed = time.perf_counter() - self.start
        rate = done / elapsed if elapsed > 0 else 0.0
        eta = (self.total - done) / rate if rate > 0 else 0.0
        filled = int(self.width * done / self.total) if self.total else self.width
        line = (
            f"[{'#' * filled}{'.' * (self.width - filled)}] {done}/{self.total} {self.unit}  "
            f"{rate:.2f}/s  ETA {eta:.0f}s"
        )
        end = "" if self.interactive and done < self.total else "\n"
        self.stream.write(("\r" if self.interactive else "") + line + end)
        self.stream.flush()
