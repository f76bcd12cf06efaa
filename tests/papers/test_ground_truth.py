"""Ground truth files: the schema, evidence on every entry, and the library-wide coverage targets."""

from __future__ import annotations

import json
import re

import pytest

from planner.core.rules import check
from planner.core.schema import Plan
from planner.papers import ground_truth
from planner.papers.library import GROUND_TRUTH_DIR, PAPERS_DIR, library_ids

IDS = library_ids()


@pytest.mark.parametrize("paper_id", IDS)
def test_every_entry_has_a_source_and_a_quote(paper_id):
    truth = ground_truth.load(paper_id)
    assert truth is not None, f"papers/ground_truth/{paper_id}.json is missing"
    for entry in truth.ablations:
        assert entry.evidence.strip() == entry.evidence and len(entry.evidence) >= 15, entry.name
        assert entry.source.strip() and entry.evidence_where.strip()
    plan = Plan(reasoning="ground truth", ablations=[e.plan_item() for e in truth.ablations])
    assert check(plan) == []


@pytest.mark.parametrize("paper_id", IDS)
def test_file_layout_is_canonical(paper_id):
    """The files are written by `ground_truth.dump`, so reformatting never shows up as a diff."""
    path = ground_truth.path_for(paper_id)
    assert path.read_text(encoding="utf-8") == ground_truth.dump(ground_truth.load(paper_id))


def test_coverage_of_the_library():
    """Where the library stands (the README lists the papers whose text could not be reached).

    The aim was 60 papers with 80% of entries quoting the paper; these floors are what the
    reachable text allowed, so a change that loses evidence fails here.
    """
    truths = [ground_truth.load(i) for i in IDS]
    covered = [t for t in truths if t and t.ablations]
    entries = sum(len(t.ablations) for t in covered)
    quoted = sum(t.from_paper for t in covered)
    assert (len(IDS), len(covered), entries, quoted) == (55, 49, 268, 215)


PRIVATE_IDS = re.compile(r"index id|read_file id|find_string id|file id|search-index|index file", re.IGNORECASE)
PUBLIC = re.compile(r"arXiv:?\s?\d{4}\.\d{4,5}|github(\.com/|:)[\w.-]+/[\w.-]+|https?://|not publicly checkable|could not be "
                    r"identified", re.IGNORECASE)


@pytest.mark.parametrize("paper_id", IDS)
def test_every_locator_is_public(paper_id):
    """Evidence and text sources name places anyone can open (arXiv id, repository and path, URL), or
    say plainly that a source could not be located; never an id of a private search index."""
    raw = ground_truth.path_for(paper_id).read_text(encoding="utf-8")
    front = (PAPERS_DIR / f"{paper_id}.md").read_text(encoding="utf-8").split("+++")[1]
    assert not PRIVATE_IDS.search(raw) and not PRIVATE_IDS.search(front)
    for entry in ground_truth.load(paper_id).ablations:
        assert PUBLIC.search(entry.evidence_where), (entry.name, entry.evidence_where)


def test_no_stray_ground_truth_files():
    stray = {p.stem for p in GROUND_TRUTH_DIR.glob("*.json")} - set(IDS)
    assert not stray, f"ground truth without a paper: {sorted(stray)}"


def test_bad_files_are_one_line_usage_errors(tmp_path):
    from planner.errors import UsageError

    (tmp_path / "x.json").write_text(json.dumps({"paper": "x", "ablations": [{"name": "n"}]}), encoding="utf-8")
    with pytest.raises(UsageError) as err:
        ground_truth.load("x", tmp_path)
    assert "x.json: not a valid ground-truth file" in str(err.value) and "\n" not in str(err.value)
