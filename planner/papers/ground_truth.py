"""Ground truth: the ablations each library paper reports, each backed by a quote.

`papers/ground_truth/<id>.json` holds, per ablation, the plan fields plus where the
paper reports it (`source`) and the evidence for it: a verbatim quote (`evidence`),
what kind of text it comes from (`evidence_from`) and where that text was read
(`evidence_where`). An ablation nobody could quote is not kept. Only evaluation and
the reviewer prompt read these files; the author prompt never does.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from planner.core.schema import Ablation
from planner.errors import UsageError
from planner.papers.library import GROUND_TRUTH_DIR

EvidenceFrom = Literal["paper", "official-code", "secondary"]
MAX_QUOTE = 350  # "about 300 characters": enough for a table row or a sentence, never a passage


class Entry(Ablation):
    """One reported ablation with its location in the paper and the quote that shows it."""

    source: str = Field(min_length=1)
    evidence: str = Field(min_length=1, max_length=MAX_QUOTE)
    evidence_from: EvidenceFrom
    evidence_where: str = Field(min_length=1)

    def plan_item(self) -> Ablation:
        """The entry as a plan ablation, which is what judges compare."""
        return Ablation(**self.model_dump(include=set(Ablation.model_fields)))


class GroundTruth(BaseModel):
    model_config = ConfigDict(extra="forbid")

    paper: str
    ablations: list[Entry]
    notes: str = ""

    @property
    def from_paper(self) -> int:
        """How many entries quote the paper's own text (the rest rest on code or secondary text)."""
        return sum(e.evidence_from == "paper" for e in self.ablations)


def path_for(paper: str, folder: Path = GROUND_TRUTH_DIR) -> Path:
    return folder / f"{paper}.json"


@cache
def load(paper: str, folder: Path = GROUND_TRUTH_DIR) -> GroundTruth | None:
    """The paper's ground truth, or None when the library has no file for it."""
    path = path_for(paper, folder)
    if not path.is_file():
        return None
    try:
        truth = GroundTruth.model_validate_json(path.read_bytes())
    except OSError as exc:
        raise UsageError(f"{path}: cannot read ({exc.strerror})") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise UsageError(f"{path}: not a valid ground-truth file ({where}: {first['msg']})") from None
    if truth.paper != paper:
        raise UsageError(f"{path}: says it is for {truth.paper!r}, not {paper!r}")
    return truth


def reported_ablations(paper: str) -> list[Ablation] | None:
    """The plan items a paper reports, or None when there are none to score against."""
    truth = load(paper)
    return [e.plan_item() for e in truth.ablations] if truth and truth.ablations else None


def dump(truth: GroundTruth) -> str:
    """The file text, in the layout the library uses (stable, so diffs stay small)."""
    return json.dumps(truth.model_dump(exclude_defaults=False), indent=2, ensure_ascii=False) + "\n"
