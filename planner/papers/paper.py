"""The paper type both readers produce (the library and a user's file), and fitting it to a budget.

It lives apart from both readers so that each can import it without importing the other.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field, replace

TEXT_SUFFIXES = {".md", ".txt", ".markdown"}
log = logging.getLogger(__name__)


@dataclass
class Paper:
    id: str
    title: str
    text: str  # what the prompt shows
    authors: list[str] = field(default_factory=list)
    year: int | None = None
    venue: str = ""
    arxiv: str = ""
    unchecked: list[str] = field(default_factory=list)
    source: str = ""
    origin: str = "library"  # "library", or "file" for a user's paper

    @property
    def sha(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()


def fit_to_budget(paper: Paper, max_chars: int) -> Paper:
    """Cut the paper text to the model's budget at a fixed point, with a visible marker and a warning."""
    if len(paper.text) <= max_chars:
        return paper
    kept = paper.text[:max_chars]
    cut = kept.rfind("\n", 0, max_chars)
    kept = kept[:cut] if cut > max_chars * 0.9 else kept
    marker = f"\n\n[... truncated by planner: {len(kept):,} of {len(paper.text):,} characters kept ...]\n"
    log.warning("paper %r is longer than the model's context budget; kept the first %s of %s characters",
                paper.id, f"{len(kept):,}", f"{len(paper.text):,}")
    return replace(paper, text=kept + marker)
