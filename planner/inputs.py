"""Reading what the user gives planner (paper folders, cards to import, prompt templates, ground truth) safely.

Input folders are read without following a link out of them, so a link planted in a
folder cannot send a file from elsewhere to a model endpoint or into the output; and
only regular files are read, so a FIFO or a device never blocks or floods a command.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from planner.errors import UsageError


def resolves_inside(path: Path, folder: Path) -> bool:
    """Whether `path`, links followed, is `folder` or below it: input folders (cards, LaTeX sources) are
    read without following a link out of them."""
    real, root = path.resolve(), folder.resolve()
    return real == root or root in real.parents


def read_inside(path: Path, folder: Path, max_bytes: int) -> bytes:
    """The bytes of a regular file in `folder`, or a one-line UsageError naming the file and the fix.

    The file is opened without blocking and checked on its open descriptor, so a FIFO swapped in
    after a check is still refused."""
    if not resolves_inside(path, folder):
        raise UsageError(f"{path}: a link that points outside {folder}; copy the file into the folder")
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as exc:
        raise UsageError(f"{path}: cannot read ({exc.strerror}); check the path and its permissions") from None
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise UsageError(f"{path}: not a regular file; give a folder of regular files")
        if info.st_size > max_bytes:
            raise UsageError(f"{path}: larger than {max_bytes:,} bytes; this cannot be what planner expects here")
        return handle.read(max_bytes + 1)
