"""The browsable HTML site: an index page and one page per trajectory.

Model text is untrusted. Plan fields go through jinja2's autoescape and the reasoning
through markdown-it with raw HTML disabled, so `<script>` or `onerror=` written by a
model shows as text; a Content-Security-Policy that forbids scripts backs this up. The
pages need nothing from the network and open from file://.
"""

from __future__ import annotations

from functools import cache

import jinja2
from markupsafe import Markup

from planner.cards.card import PLAN_BOXES, REASONING
from planner.cards.index import TASK_TITLES, build_grids, href
from planner.cards.store import relative_name
from planner.core.schema import Trajectory


@cache
def _env() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("planner.cards", "templates"),
        undefined=jinja2.StrictUndefined,
        autoescape=True,
    )
    env.globals.update(reasoning=REASONING, plan_boxes=PLAN_BOXES, titles=TASK_TITLES)
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
    home = "../" * relative_name(t).count("/") + "index.html"  # back up to the site's root
    return _env().get_template("site_page.html.j2").render(
        t=t, p=t.provenance, home=home, reasoning_html=render_reasoning(t.plan.reasoning)
    )


def render_index_page(trajectories: list[Trajectory]) -> str:
    return _env().get_template("site_index.html.j2").render(
        grids=build_grids(trajectories), total=len(trajectories), page_href=lambda t: href(t, ".html"),
    )
