"""The papers x models grid of stored trajectories, and its markdown form `trajectories.md`.

The HTML site draws the same grid, so both are built from `Grid` and cannot disagree.
Columns are models by display name (`claude-3.5-sonnet`, not its folder name); links
are percent-encoded and cell text escaped, so any name a file system takes reads back.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import quote

from planner.cards.store import relative_name
from planner.core.schema import Trajectory
from planner.registry import display_name

TASK_TITLES = {"author": "Author task", "reviewer": "Reviewer task"}
_MD_SPECIAL = re.compile(r"([\\`*_\[\]|<>])")


@dataclass
class Grid:
    """One task's trajectories keyed by (paper, model slug)."""

    task: str
    cells: dict[tuple[str, str], Trajectory] = field(default_factory=dict)

    @property
    def papers(self) -> list[str]:
        return sorted({p for p, _ in self.cells}, key=str.casefold)

    @property
    def slugs(self) -> list[str]:
        return sorted({s for _, s in self.cells})

    def model(self, slug: str) -> str:
        """The column's display name: the dotted form when any trajectory of it has one."""
        names = {t.model for (_, s), t in self.cells.items() if s == slug}
        return display_name(max(names, key=lambda m: (m.count("."), m)))


def build_grids(trajectories: list[Trajectory]) -> list[Grid]:
    """Group trajectories by task; tasks with no trajectory are left out."""
    grids = {task: Grid(task) for task in TASK_TITLES}
    for t in trajectories:
        grids[t.task].cells[(t.paper, t.slug)] = t
    return [g for g in grids.values() if g.cells]


def href(t: Trajectory, suffix: str) -> str:
    """A link from an index (at the root of the output folder or of the site) to one trajectory's card
    or page, each segment percent-encoded."""
    return quote(relative_name(t) + suffix)


def md_text(text: str) -> str:
    """Plain text inside a markdown table cell: specials escaped, so a name never becomes markup."""
    return _MD_SPECIAL.sub(r"\\\1", text)


def render_index(trajectories: list[Trajectory]) -> str:
    """The markdown index: one table per task, papers as rows, models as columns."""
    lines = ["# LM-Planner trajectories", ""]
    lines.append(f"{len(trajectories)} trajectories. Each cell links to a card; `-` means no plan yet.")
    for grid in build_grids(trajectories):
        lines += ["", f"## {TASK_TITLES[grid.task]}", ""]
        lines.append("| paper | " + " | ".join(md_text(grid.model(s)) for s in grid.slugs) + " |")
        lines.append("|---" * (len(grid.slugs) + 1) + "|")
        for paper in grid.papers:
            cells = []
            for slug in grid.slugs:
                t = grid.cells.get((paper, slug))
                cells.append(f"[{len(t.plan.ablations)} ablations]({href(t, '.md')})" if t else "-")
            lines.append(f"| {md_text(paper)} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
