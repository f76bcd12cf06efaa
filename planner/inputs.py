"""Reading what the user gives planner: the one place a user's file is opened.

Paper files and LaTeX folders, cards to import, prompt templates, a papers list and a
results file to collect all come through `open_user_file`: only a regular file is
read (a FIFO would hang, a device like /dev/zero never ends), never more than its
size cap, and inside an input folder never through a link that leaves it, so a link
planted in a folder cannot send a file from elsewhere to a model endpoint or into
the output. Errors are one line naming the file and the fix, never its content.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import BinaryIO

from planner.errors import UsageError


def resolves_inside(path: Path, folder: Path) -> bool:
    """Whether `path`, links followed, is `folder` or below it."""
    real, root = path.resolve(), folder.resolve()
    return real == root or root in real.parents


def _size(n: int) -> str:
    return f"{n / 1_000_000:g} MB" if n >= 1_000_000 else f"{n / 1_000:g} kB"


def open_user_file(path: Path, what: str, max_bytes: int, within: Path | None = None, hint: str = "") -> BinaryIO:
    """`path` opened for reading as bytes, when it is a regular file of at most `max_bytes` (and, given
    `within`, inside that folder with links followed). `what` names the file's role in messages and
    `hint` says what to give instead."""
    fix = f"; {hint}" if hint else ""
    name = f"{what} {path}" if what else str(path)
    if within is not None and not resolves_inside(path, within):
        raise UsageError(f"{name}: a link that points outside {within}; planner does not follow links out "
                         f"of an input folder{fix}")
    try:  # O_NONBLOCK: opening a FIFO must not wait for a writer; what it is is checked on the open file
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        raise UsageError(f"{name}: no such file{fix}") from None
    except OSError as exc:
        raise UsageError(f"{name}: cannot read ({exc.strerror}){fix}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            kind = "a folder" if stat.S_ISDIR(info.st_mode) else "a device, FIFO or socket"
            raise UsageError(f"{name}: not a regular file ({kind}){fix}")
        if info.st_size > max_bytes:
            raise UsageError(f"{name}: larger than {_size(max_bytes)}{fix}")
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_user_file(path: Path, what: str, max_bytes: int, within: Path | None = None, hint: str = "") -> bytes:
    """The bytes of a user's file, under the rules of `open_user_file` (a file that grows past its cap while
    being read is refused too)."""
    name, fix = (f"{what} {path}" if what else str(path)), (f"; {hint}" if hint else "")
    with open_user_file(path, what, max_bytes, within, hint) as fh:
        try:
            data = fh.read(max_bytes + 1)
        except OSError as exc:
            raise UsageError(f"{name}: cannot read ({exc.strerror}){fix}") from None
    if len(data) > max_bytes:
        raise UsageError(f"{name}: larger than {_size(max_bytes)}{fix}")
    return data

