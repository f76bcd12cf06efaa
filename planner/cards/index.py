"""The papers x models grid of stored trajectories, and its markdown form `trajectories.md`.

The HTML site draws the same grid, so both are built from `Grid` and cannot disagree.
Columns are models by display name (`claude-3.5-sonnet`, not its folder name); links
are percent-encoded and cell text escaped, so any name a file system takes reads back.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import quote

from planner.cards.store import relative_name
from planner.core.schema import Trajectory
from planner.registry import display_name

TASK_TITLES = {"author": "Author task", "reviewer": "Reviewer task"}
_MD_SPECIAL = re.compile(r"([\\`*_\[\]|<>])")


@dataclass
class Grid:
    """One task's trajectories keyed by (paper, model slug), with its rows and columns worked out once."""

    task: str
    cells: dict[tuple[str, str], Trajectory]
    papers: list[str]  # rows, in case-insensitive order
    slugs: list[str]  # columns
    names: dict[str, str]  # slug -> the column's display name


def build_grids(trajectories: list[Trajectory]) -> list[Grid]:
    """Group trajectories by task (tasks with no trajectory are left out), in one pass over them.

    A column's display name is the dotted form when any trajectory of it has one."""
    cells: dict[str, dict[tuple[str, str], Trajectory]] = {task: {} for task in TASK_TITLES}
    for t in trajectories:
        cells[t.task][(t.paper, t.slug)] = t
    grids = []
    for task, found in cells.items():
        if not found:
            continue
        best: dict[str, str] = {}
        for (_, slug), t in found.items():
            if slug not in best or (t.model.count("."), t.model) > (best[slug].count("."), best[slug]):
                best[slug] = t.model
        grids.append(Grid(task, found, sorted({p for p, _ in found}, key=str.casefold), sorted(best),
                          {slug: display_name(model) for slug, model in best.items()}))
    return grids


@lru_cache(maxsize=65536)
def quoted(name: str) -> str:
    """A relative name percent-encoded segment by segment (computed once per name)."""
    return quote(name)


def href(t: Trajectory, suffix: str) -> str:
    """A link from an index (at the root of the output folder or of the site) to one trajectory's card
    or page, each segment percent-encoded."""
    return quoted(relative_name(t)) + suffix


def md_text(text: str) -> str:
    """Plain text inside a markdown table cell: specials escaped, so a name never becomes markup."""
    return _MD_SPECIAL.sub(r"\\\1", text)


def render_index(grids: list[Grid], total: int) -> str:
    """The markdown index: one table per task, papers as rows, models as columns."""
    lines = ["# LM-Planner trajectories", ""]
    lines.append(f"{total} trajectories. Each cell links to a card; `-` means no plan yet.")
    for grid in grids:
        lines += ["", f"## {TASK_TITLES[grid.task]}", ""]
        lines.append("| paper | " + " | ".join(md_text(grid.names[s]) for s in grid.slugs) + " |")
        lines.append("|---" * (len(grid.slugs) + 1) + "|")
        for paper in grid.papers:
            cells = []
            for slug in grid.slugs:
                t = grid.cells.get((paper, slug))
                cells.append(f"[{len(t.plan.ablations)} ablations]({href(t, '.md')})" if t else "-")
            lines.append(f"| {md_text(paper)} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
