"""Writing the site's shared pages: the front page, the grid's further pages, one page per paper and
task, and the chart of each task's latest evaluation.

The front and grid pages show everything, so they are rendered on every regenerate (each
holds at most `site.PAGE_SIZE` papers) and written only when they changed. A paper page
is rendered only when one of its inputs changed: its plans, the columns' names, the latest
evaluation's rows for the paper, the library's summary of it, or the renderer. The grid's
rows and columns are worked out once, so an unchanged regenerate costs time in proportion
to the number of cards.
"""

from __future__ import annotations

import hashlib

from planner.cards.evaldata import Evaluation, latest_evaluations
from planner.cards.index import Grid
from planner.cards.site import (
    GridSection,
    chart_path,
    grid_path,
    pages,
    paper_index,
    paper_path,
    render_front,
    render_grid_page,
    render_paper_page,
)
from planner.cards.store import Derived
from planner.cards.views import grid_scores, paper_view
from planner.papers.library import PAPERS_DIR


def _library_summary(paper: str) -> bytes:
    """The library's summary of a paper (its title heads the page), empty for other papers."""
    try:
        return (PAPERS_DIR / f"{paper}.md").read_bytes()
    except OSError:
        return b""


def _paper_digest(grid: Grid, paper: str, evaluation: Evaluation | None, digests: dict[int, str],
                  renderer: bytes) -> str:
    h = hashlib.sha256(renderer)
    for slug in grid.slugs:
        t = grid.cells.get((paper, slug))
        if t is not None:
            h.update(f"\0{slug}\0{grid.names[slug]}\0{digests[id(t)]}".encode())
    if evaluation is not None:
        h.update(b"\0eval\0" + evaluation.identity)
        for line in evaluation.lines.get(paper, ()):
            h.update(b"\0" + line)
    h.update(b"\0library\0" + _library_summary(paper))
    return h.hexdigest()


def write_site(grids: list[Grid], total: int, digests: dict[int, str], derived: Derived,
               renderer: bytes) -> None:
    """Write the site's shared pages; `digests` maps each trajectory (by id) to its content digest."""
    evaluations = latest_evaluations(derived.out, [g.task for g in grids])
    sections = []
    for grid in grids:
        evaluation = evaluations.get(grid.task)
        links, scores, index = pages(grid), grid_scores(grid, evaluation), paper_index(grid)
        sections.append(GridSection(grid, scores, 1, links, index))
        for link in links[1:]:
            page = render_grid_page(GridSection(grid, scores, link.number, links, index))
            derived.write(f"site/{grid_path(grid.task, link.number)}", page, "grid")
        if evaluation is not None and evaluation.chart is not None:
            name, png = evaluation.chart
            derived.write(f"site/{chart_path(grid.task, name)}", png, "chart")
        for paper in grid.papers:
            key = f"site/{paper_path(grid.task, paper)}"
            digest = _paper_digest(grid, paper, evaluation, digests, renderer)
            if derived.fresh(key, digest):
                derived.keep(key)
            else:
                derived.write(key, render_paper_page(paper_view(grid, paper, scores)), digest)
    derived.write("site/index.html", render_front(sections, total), "index")
