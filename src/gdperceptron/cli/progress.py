"""Progress of a long run that a person can watch.

On a terminal: a bar with the steps done and the latest loss, min margin and number of
misclassified samples. When standard error is not a terminal (a log file, CI): one line
every ``interval`` seconds with the same numbers. ``quiet`` silences both. The callback has
the run loop's signature, ``progress(steps_done, max_iter, latest)``.
"""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO


def _fields(latest: dict[str, float] | None) -> str:
    if not latest:
        return ""
    parts = []
    if "loss" in latest:
        parts.append(f"loss {latest['loss']:.4g}")
    if "min_margin" in latest:
        parts.append(f"min margin {latest['min_margin']:.4g}")
    if "n_misclassified" in latest:
        parts.append(f"misclassified {int(latest['n_misclassified'])}")
    return ", ".join(parts)


class RunProgress:
    """A progress display for :func:`gdperceptron.engines.trajectory.run` (a callable).

    Args:
        total: the step budget (``max_iter``).
        quiet: show nothing.
        stream: where to write (default: standard error).
        interval: seconds between two lines when ``stream`` is not a terminal.
    """

    def __init__(
        self,
        total: int,
        *,
        quiet: bool = False,
        stream: TextIO | None = None,
        interval: float = 10.0,
    ) -> None:
        self.total = int(total)
        self.quiet = quiet
        self.stream = sys.stderr if stream is None else stream
        self.interval = float(interval)
        self._bar: Any = None
        self._last = time.monotonic()
        self._tty = bool(getattr(self.stream, "isatty", lambda: False)())
        if not quiet and self._tty:
            from tqdm import tqdm

            self._bar = tqdm(
                total=self.total,
                desc="steps",
                unit="it",
                leave=False,
                file=self.stream,
                mininterval=0.5,
            )

    def __call__(self, done: int, total: int, latest: dict[str, float] | None = None) -> None:
        if self.quiet:
            return
        if self._bar is not None:
            self._bar.n = min(int(done), self.total)
            text = _fields(latest)
            if text:
                self._bar.set_postfix_str(text, refresh=False)
            self._bar.refresh()
            return
        now = time.monotonic()
        if now - self._last >= self.interval and done < total:
            self._last = now
            line = f"gdperceptron: step {done}/{total}"
            text = _fields(latest)
            self.stream.write(f"{line}: {text}\n" if text else f"{line}\n")
            self.stream.flush()

    def close(self) -> None:
        """Remove the bar (before the result or an error is printed)."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None
