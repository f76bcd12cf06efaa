"""What the site's research pages show, worked out from the grid and the latest evaluation.

A paper page puts every model's plan for one paper and task side by side with the
paper's ground truth (for the reviewer task: the ablations the paper reports) and marks
which planned ablation matched which entry; the front page colours each cell by its
score. An evaluation's row is used for a plan only while the plan is the one it scored
(the same ablation names in the same order): a plan made again since shows unscored.
The ground truth shown is the one the evaluation scored against (the library's, or the
folder `eval --ground-truth` was given): the site never opens the library's ground-truth
files, so a planning run, which refreshes the site, never reads them either.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from planner.cards.evaldata import Evaluation, Row, TruthItem
from planner.cards.index import Grid, href
from planner.core.schema import Trajectory
from planner.errors import PlannerError
from planner.papers.library import PAPERS_DIR, library_ids, parse_library_file

SHADES = 5  # colour steps of a grid cell, from poor to good


def current_row(evaluation: Evaluation | None, t: Trajectory) -> tuple[Row | None, bool]:
    """The evaluation's row for this plan, and whether the plan changed since it was scored."""
    row = evaluation.rows.get((t.paper, t.slug)) if evaluation else None
    if row is None:
        return None, False
    if row.plan != [a.name for a in t.plan.ablations]:
        return None, True
    return row, False


@dataclass
class GridScores:
    """The latest evaluation's rows for the plans of one grid that it scored as they are now (worked out
    once per grid), and how many plans changed since."""

    evaluation: Evaluation | None
    rows: dict[tuple[str, str], Row]
    stale: int


def grid_scores(grid: Grid, evaluation: Evaluation | None) -> GridScores:
    rows, stale = {}, 0
    if evaluation is not None:
        for key, t in grid.cells.items():
            row, changed = current_row(evaluation, t)
            stale += changed
            if row is not None:
                rows[key] = row
    return GridScores(evaluation, rows, stale)


@dataclass
class Cell:
    """A grid cell: the plan's page, its text, its colour step (None: not scored) and a tooltip."""

    href: str
    text: str
    shade: int | None
    title: str


def cell(t: Trajectory, scores: GridScores) -> Cell:
    row, evaluation = scores.rows.get((t.paper, t.slug)), scores.evaluation
    count = f"{len(t.plan.ablations)} ablations"
    if row is None or evaluation is None:
        return Cell(href(t, ".html"), "plan", None, count + ", not scored")
    value = getattr(row, evaluation.metric)
    good = 1 - value if evaluation.metric == "duplicate_share" else value
    return Cell(href(t, ".html"), f"{value:.2f}", min(SHADES - 1, int(good * SHADES)),
                f"{count}, {evaluation.metric} {value:.3f}")


@dataclass
class PlanColumn:
    """One model's plan on a paper page."""

    t: Trajectory
    model: str
    href: str  # its card page, from the site's root
    row: Row | None
    stale: bool
    marks: list[list[int] | None]  # per planned ablation: the truth entries it matched; None: not scored


@dataclass
class TruthEntry:
    item: TruthItem
    found_by: list[str]  # the models whose plans matched it


@dataclass
class PaperView:
    task: str
    paper: str
    title: str | None
    plans: list[PlanColumn]
    truth: list[TruthEntry] | None  # as the latest evaluation scored the paper; None when it did not
    stale: int  # plans the latest evaluation scored that have changed since
    evaluation: Evaluation | None


@cache
def _library() -> frozenset[str]:
    return frozenset(library_ids())


def library_title(paper: str) -> str | None:
    if paper not in _library():
        return None
    try:
        return parse_library_file(PAPERS_DIR / f"{paper}.md").title
    except (PlannerError, OSError, KeyError):
        return None


def _marks(t: Trajectory, row: Row | None) -> list[list[int] | None]:
    if row is None:
        return [None] * len(t.plan.ablations)
    limit = row.top_k or len(t.plan.ablations)
    return [sorted(j for p, j in row.matches if p == i) if i < limit else None for i in range(len(t.plan.ablations))]


def paper_view(grid: Grid, paper: str, scores: GridScores) -> PaperView:
    plans = []
    for slug in grid.slugs:
        t = grid.cells.get((paper, slug))
        if t is not None:
            row = scores.rows.get((paper, slug))
            stale = row is None and current_row(scores.evaluation, t)[1]
            plans.append(PlanColumn(t, grid.names[slug], href(t, ".html"), row, stale, []))
    scored = [p.row for p in plans if p.row is not None]
    truth_items = scored[0].truth if scored else None
    for p in plans:
        if p.row is not None and p.row.truth != truth_items:
            p.row = None  # scored against other entries than the ones shown: leave it unmarked
        p.marks = _marks(p.t, p.row)
    truth = None
    if truth_items:
        truth = [TruthEntry(item, [p.model for p in plans if any(j in (m or ()) for m in p.marks)])
                 for j, item in enumerate(truth_items)]
    return PaperView(grid.task, paper, library_title(paper), plans, truth, sum(p.stale for p in plans),
                     scores.evaluation)
