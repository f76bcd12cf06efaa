"""Reading what the user gives planner (paper folders, cards to import, prompt templates) safely.

Input folders are read without following a link out of them, so a link planted in a
folder cannot send a file from elsewhere to a model endpoint or into the output.
"""

from __future__ import annotations

from pathlib import Path


def resolves_inside(path: Path, folder: Path) -> bool:
    """Whether `path`, links followed, is `folder` or below it: input folders (cards, LaTeX sources) are
    read without following a link out of them."""
    real, root = path.resolve(), folder.resolve()
    return real == root or root in real.parents
