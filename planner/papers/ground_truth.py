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
from typing import Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from planner.core.schema import Ablation
from planner.errors import UsageError
from planner.inputs import read_user_file
from planner.papers.library import GROUND_TRUTH_DIR

EvidenceFrom = Literal["paper", "official-code", "secondary"]
MAX_QUOTE = 350  # "about 300 characters": enough for a table row or a sentence, never a passage


class UserEntry(Ablation):
    """A reported ablation in a ground-truth file the user gives: where it is and the quote are optional."""

    source: str | None = Field(default=None, min_length=1)
    evidence: str | None = Field(default=None, min_length=1, max_length=MAX_QUOTE)
    evidence_from: EvidenceFrom | None = None
    evidence_where: str | None = Field(default=None, min_length=1)

    def plan_item(self) -> Ablation:
        """The entry as a plan ablation, which is what judges compare."""
        return Ablation(**self.model_dump(include=set(Ablation.model_fields)))


class Entry(UserEntry):
    """One reported ablation of the library, with its location in the paper and the quote that shows it."""

    source: str = Field(min_length=1)
    evidence: str = Field(min_length=1, max_length=MAX_QUOTE)
    evidence_from: EvidenceFrom
    evidence_where: str = Field(min_length=1)


class UserGroundTruth(BaseModel):
    """A ground-truth file in the library's format, its evidence fields optional."""

    model_config = ConfigDict(extra="forbid")

    paper: str
    ablations: list[UserEntry]
    notes: str = ""


class GroundTruth(UserGroundTruth):
    """A library ground-truth file: every entry carries its evidence."""

    ablations: list[Entry]

    @property
    def from_paper(self) -> int:
        """How many entries quote the paper's own text (the rest rest on code or secondary text)."""
        return sum(e.evidence_from == "paper" for e in self.ablations)


T = TypeVar("T", bound=UserGroundTruth)


def path_for(paper: str, folder: Path = GROUND_TRUTH_DIR) -> Path:
    return folder / f"{paper}.json"


def _parse(path: Path, data: bytes, paper: str, model: type[T]) -> T:
    """One ground-truth file's content, or a one-line UsageError that names the file and the problem."""
    try:
        truth = model.model_validate_json(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        if first["type"] == "json_invalid":
            raise UsageError(f"{path}: not valid JSON ({first['msg']}); fix the file or move it out") from None
        where = ".".join(str(p) for p in first["loc"]) or "the top level"
        raise UsageError(f"{path}: not a valid ground-truth file ({where}: {first['msg']}); see the library's "
                         "papers/ground_truth/*.json for the format") from None
    if truth.paper != paper:
        raise UsageError(f"{path}: says it is for {truth.paper!r}, not {paper!r}; name the file <paper>.json")
    return truth


@cache
def load(paper: str, folder: Path = GROUND_TRUTH_DIR) -> GroundTruth | None:
    """The paper's ground truth, or None when the library has no file for it."""
    path = path_for(paper, folder)
    if not path.is_file():
        return None
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UsageError(f"{path}: cannot read ({exc.strerror})") from None
    return _parse(path, data, paper, GroundTruth)


MAX_FILE = 5_000_000  # no paper reports this much; a larger file is a mistake


def load_folder(folder: Path) -> dict[str, list[Ablation]]:
    """Ground truth the user gives: every `<paper>.json` in `folder`, paper id -> its reported ablations.

    Read like every input folder (planner.inputs): no link out of it is followed and only
    regular files are read. Evidence fields are optional here; a paper with no entries is left out."""
    if not folder.is_dir():
        raise UsageError(f"{folder}: no such folder; --ground-truth takes a folder of <paper>.json files")
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() == ".json")
    if not files:
        raise UsageError(f"{folder}: no .json files; --ground-truth takes a folder of <paper>.json files")
    found = {}
    for path in files:
        raw = read_user_file(path, "ground truth", MAX_FILE, within=folder, hint="give a folder of regular files")
        truth = _parse(path, raw, path.stem, UserGroundTruth)
        if truth.ablations:
            found[truth.paper] = [e.plan_item() for e in truth.ablations]
    return found


def reported_ablations(paper: str) -> list[Ablation] | None:
    """The plan items a paper reports, or None when there are none to score against."""
    truth = load(paper)
    return [e.plan_item() for e in truth.ablations] if truth and truth.ablations else None


def dump(truth: GroundTruth) -> str:
    """The file text, in the layout the library uses (stable, so diffs stay small)."""
    return json.dumps(truth.model_dump(exclude_defaults=False), indent=2, ensure_ascii=False) + "\n"
