"""Everything the CLI shows: redacted, free of terminal control sequences, and quiet on a closed pipe.

Model text (names, errors, reasoning) and server messages reach the terminal here, so
an escape sequence a model wrote would clear the screen or retitle the window if it
were printed raw: every control character is shown as a visible escape instead. Keys
are redacted first (see planner.secrets). When the reader of stdout goes away
(`planner papers | head -2`) output stops silently and the work goes on.

Library modules never print; they log to the "planner" logger, which `setup_logging`
routes here: warnings always, details with --verbose.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import threading
from typing import TextIO

from planner.secrets import redact

# C0 and C1 controls, DEL, line/paragraph separators and bidirectional overrides.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_NEWLINES = re.compile(r"[\n\t]")
_lock = threading.Lock()
_closed: set[int] = set()


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def clean(text: object, one_line: bool = False) -> str:
    """Text safe to show: secrets redacted, control characters escaped (and newlines, for one line)."""
    text = _CONTROL.sub(_escape, redact(str(text)))
    return _NEWLINES.sub(_escape, text) if one_line else text


def _write(stream: TextIO, text: str) -> None:
    with _lock:
        if id(stream) in _closed:
            return
        try:
            stream.write(text)
            stream.flush()
        except BrokenPipeError:
            _closed.add(id(stream))
            try:  # later writes (and the interpreter's final flush) go nowhere, silently
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, stream.fileno())
                os.close(devnull)
            except (OSError, ValueError):
                pass


def out(text: str = "") -> None:
    """One or more lines of a command's result on stdout."""
    _write(sys.stdout, clean(text) + "\n")


def err(text: str) -> None:
    """A one-line note on stderr (warnings, skipped work, failures)."""
    _write(sys.stderr, clean(text, one_line=True) + "\n")


def error(message: str) -> None:
    """The one line a failed command ends with."""
    err(f"planner: error: {message}")


class _Handler(logging.Handler):
    """Log records as one clean line each: 'warning: ...' (and 'info: ...' with --verbose)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            err(f"{record.levelname.lower()}: {record.getMessage()}")
        except Exception:  # a logging problem must never end the run
            self.handleError(record)


def setup_logging(verbose: bool) -> None:
    """Route the library's log to stderr: warnings always, everything with --verbose."""
    logger = logging.getLogger("planner")
    logger.handlers[:] = [_Handler()]
    logger.setLevel(logging.DEBUG if verbose else logging.WARNING)
    for noisy in ("pypdf", "httpx2", "httpcore2", "openai", "anthropic"):
        logging.getLogger(noisy).setLevel(logging.ERROR if not verbose else logging.WARNING)


class Progress:
    """A progress bar on stderr whose text is escaped (names may hold rich markup or control
    characters) and which goes quiet, without stopping the work, if the terminal goes away."""

    def __init__(self, total: int, title: str) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )
        from rich.progress import (
            Progress as RichProgress,
        )

        self._bar = RichProgress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                 TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
                                 console=Console(file=sys.stderr), transient=False)
        self._task = self._bar.add_task(self._text(title), total=total)
        self._alive = True

    @staticmethod
    def _text(text: str) -> str:
        from rich.markup import escape

        return escape(clean(text, one_line=True)[:100])

    def __enter__(self) -> Progress:
        self._guard(self._bar.start)
        return self

    def __exit__(self, *exc: object) -> None:
        self._guard(self._bar.stop)

    def advance(self, text: str) -> None:
        self._guard(lambda: self._bar.update(self._task, advance=1, description=self._text(text)))

    def _guard(self, action) -> None:  # type: ignore[no-untyped-def]
        if not self._alive:
            return
        try:
            action()
        except (BrokenPipeError, OSError):
            self._alive = False


def table(columns: list[str], rows: list[list[str]], title: str = "") -> str:
    """A plain-text table as wide as its content (numbers right-aligned), cleaned like any other output."""
    from io import StringIO

    from rich.console import Console
    from rich.table import Table

    cells = [[clean(cell, one_line=True) for cell in row] for row in rows]
    grid = Table(title=clean(title, one_line=True) or None)
    for i, column in enumerate(columns):
        numeric = bool(cells) and all(_NUMERIC.fullmatch(row[i] or "0") for row in cells)
        grid.add_column(column, justify="right" if numeric else "left", no_wrap=True)
    for row in cells:
        grid.add_row(*row)
    buffer = StringIO()
    Console(file=buffer, width=1000, markup=False, highlight=False).print(grid)
    return "\n".join(line.rstrip() for line in buffer.getvalue().splitlines())


_NUMERIC = re.compile(r"[-+$]?[\d,.]+\s*[a-z%]*")
