"""The browsable HTML site: the front page, pages of the papers x models grid, one page per paper and
task (every model's plan beside the ground truth), and one page per trajectory.

Model text, paper ids and model names are untrusted. Everything goes through jinja2's
autoescape and the reasoning through markdown-it with raw HTML disabled, so `<script>` or
`onerror=` written by a model shows as text. A Content-Security-Policy backs this up: no
page may load anything from the network, and the only script that runs is our own grid
filter, allowed by its hash. The pages open from file://.

Site paths (relative to `site/`): `index.html`; `<planner>/<slug>/<paper>.html` and the same
under `reviewer/` for trajectories; `eval/<task>/<paper>.html` for paper pages,
`eval/<task>/grid/<n>.html` for the grid's further pages and `eval/<task>/<chart>.png`.
`eval` is a name no planner, model or paper may take, and a paper page always ends in
`.html`, so none of these can collide.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from urllib.parse import quote

import jinja2
from markupsafe import Markup

from planner.cards.card import PLAN_BOXES, REASONING
from planner.cards.evaldata import Evaluation
from planner.cards.index import TASK_TITLES, Grid, quoted
from planner.cards.store import relative_name
from planner.cards.views import Cell, GridScores, PaperView, cell
from planner.core.schema import Trajectory

TEMPLATES = Path(__file__).parent / "templates"
SCRIPT = (TEMPLATES / "site.js").read_text(encoding="utf-8")
SCRIPT_HASH = base64.b64encode(hashlib.sha256(SCRIPT.encode()).digest()).decode()
PAGE_SIZE = 100  # papers per page of the grid: a page stays a few thousand elements at any number of cards


def paper_path(task: str, paper: str) -> str:
    return f"eval/{task}/{paper}.html"


def grid_path(task: str, number: int) -> str:
    return "index.html" if number == 1 else f"eval/{task}/grid/{number}.html"


def chart_path(task: str, name: str) -> str:
    return f"eval/{task}/{name}"


def interval(values: tuple[float, float, float]) -> str:
    """A mean and its interval exactly as `planner eval` prints them."""
    return f"{values[0]:.3f} [{values[1]:.3f}, {values[2]:.3f}]"


def filters(evaluation: Evaluation) -> str:
    run = evaluation.run
    parts = [f"papers {', '.join(run.papers)}"] if run.papers else []
    parts += [f"models {', '.join(run.models)}"] if run.models else []
    return "; ".join(parts) or "none (every stored plan of the task)"


@cache
def _env() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("planner.cards", "templates"), undefined=jinja2.StrictUndefined, autoescape=True,
    )
    env.globals.update(reasoning=REASONING, plan_boxes=PLAN_BOXES, titles=TASK_TITLES, script=None,
                       script_hash=SCRIPT_HASH, interval=interval, filters=filters)
    return env


@cache
def _markdown():
    from markdown_it import MarkdownIt

    # "html": False makes raw tags in the text literal; markdown-it also refuses javascript: links.
    return MarkdownIt("commonmark", {"html": False})


def render_reasoning(text: str) -> Markup:
    """Reasoning as safe HTML: markdown structure kept, any raw HTML escaped."""
    return Markup(_markdown().render(text))


def render_page(t: Trajectory) -> str:
    root = "../" * relative_name(t).count("/")  # back up to the site's root
    return _env().get_template("site_page.html.j2").render(
        t=t, p=t.provenance, root=root, paper_href=quote(paper_path(t.task, t.paper)),
        reasoning_html=render_reasoning(t.plan.reasoning),
    )


@dataclass
class PageLink:
    number: int
    label: str
    href: str  # from the site's root


@dataclass
class GridSection:
    """One task's grid as one page shows it: its rows, the pager and the scores of the latest evaluation."""

    grid: Grid
    scores: GridScores
    number: int
    pages: list[PageLink]
    index: list[tuple[str, str, int]]  # every paper of the task: name, page link, grid page (for the filter)

    @property
    def evaluation(self) -> Evaluation | None:
        return self.scores.evaluation

    @property
    def rows(self) -> list[str]:
        return self.grid.papers[(self.number - 1) * PAGE_SIZE:self.number * PAGE_SIZE]

    @property
    def chart_href(self) -> str:
        chart = self.evaluation.chart if self.evaluation else None
        return quote(chart_path(self.grid.task, chart[0])) if chart else ""

    def cells(self, paper: str) -> list[Cell | None]:
        """A row's cells, one per model (None where the model has no plan for the paper)."""
        found = [self.grid.cells.get((paper, slug)) for slug in self.grid.slugs]
        return [cell(t, self.scores) if t is not None else None for t in found]

    def paper_href(self, paper: str) -> str:
        return quoted(paper_path(self.grid.task, paper))


def paper_index(grid: Grid) -> list[tuple[str, str, int]]:
    """Every paper of the task with its page's link and its grid page: the filter finds papers on other pages."""
    return [(p, quoted(paper_path(grid.task, p)), i // PAGE_SIZE + 1) for i, p in enumerate(grid.papers)]


def pages(grid: Grid) -> list[PageLink]:
    """The grid's pages, each labelled by its first and last paper, like a dictionary's."""
    found = []
    for start in range(0, len(grid.papers), PAGE_SIZE):
        chunk = grid.papers[start:start + PAGE_SIZE]
        number = start // PAGE_SIZE + 1
        label = chunk[0] if len(chunk) == 1 else f"{chunk[0]} – {chunk[-1]}"
        found.append(PageLink(number, label, quote(grid_path(grid.task, number))))
    return found


def render_front(sections: list[GridSection], total: int) -> str:
    return _env().get_template("site_index.html.j2").render(
        sections=sections, total=total, root="", script=Markup(SCRIPT))


def render_grid_page(section: GridSection) -> str:
    return _env().get_template("site_grid_page.html.j2").render(
        s=section, root="../../../", script=Markup(SCRIPT))


def render_paper_page(view: PaperView) -> str:
    return _env().get_template("site_paper.html.j2").render(v=view, e=view.evaluation, root="../../")
