"""The HTML site: hostile model text, paper ids, model names and ground truth stay text on every page,
the pages render in a real chromium without a script error, and the grid's filter works offline."""

from __future__ import annotations

import re
from pathlib import Path

from browser import DESKTOP, PHONE, count_near, dump_dom, needs_chromium, screenshot
from sitedata import row, store, trajectory, write_eval

from planner.cards.store import relative_name
from planner.core.schema import Ablation, Plan, Trajectory

ROOT = Path(__file__).parents[2]


def write_site(trajectories: list[Trajectory], out: Path) -> Path:
    """Store the trajectories in `out` and let regenerate write the site; returns its index."""
    from planner.cards.regenerate import regenerate

    out = store(out, trajectories)
    summary, _ = regenerate(out)
    assert not summary.failed and summary.done == len(trajectories)
    return out / "site" / "index.html"


HOSTILE = "<script>document.title='pwned'</script>"
HOSTILE_IMG = "<img src=x onerror=\"document.title='pwned'\">"
HOSTILE_PAPER = "<svg onload=document.title='pwned'>&amp;<!--"  # a paper id takes anything but a separator
HOSTILE_MODEL = "<img src=x onerror=document.title='pwned'>"


def hostile_trajectory(task: str = "author") -> Trajectory:
    return Trajectory(
        model="gpt-4o", slug="gpt-4o", paper="simsiam", task=task,
        plan=Plan(
            reasoning=f"We test **the predictor**.\n\n- item `code`\n\n{HOSTILE}\n\n[link](javascript:alert(1))\n\n{HOSTILE_IMG}",
            ablations=[Ablation(name=HOSTILE_IMG, ablated_part=HOSTILE, action="REMOVE", metrics=["top-1 <b>acc</b>"])],
        ),
    )


def test_hostile_text_is_escaped_in_html(tmp_path: Path):
    t = hostile_trajectory()
    write_site([t], tmp_path)
    html = (tmp_path / "site" / f"{relative_name(t)}.html").read_text(encoding="utf-8")
    assert "<script" not in html
    assert "<img" not in html
    assert 'href="javascript:' not in html
    assert "&lt;script&gt;document.title=" in html
    assert "onerror=" in html  # shown as text, inside an escaped tag
    assert "<strong>the predictor</strong>" in html  # markdown still renders
    assert "&lt;b&gt;acc&lt;/b&gt;" in html


def test_index_links_every_page(tmp_path: Path):
    a, r = hostile_trajectory("author"), hostile_trajectory("reviewer")
    index = write_site([a, r], tmp_path)
    html = index.read_text(encoding="utf-8")
    assert 'href="lm-planner/gpt-4o/simsiam.html"' in html
    assert 'href="reviewer/lm-planner/gpt-4o/simsiam.html"' in html
    assert 'href="eval/author/simsiam.html"' in html and 'href="eval/reviewer/simsiam.html"' in html
    assert (tmp_path / "site/reviewer/lm-planner/gpt-4o/simsiam.html").is_file()
    assert (tmp_path / "site/eval/reviewer/simsiam.html").is_file()


def hostile_site(out: Path, monkeypatch) -> Path:
    """Hostile paper ids, model names, plans and ground truth on every kind of page: front, grid pages
    (one paper per page), paper pages and trajectory pages, with an evaluation that scored them."""
    from planner.cards import site
    from planner.cards.regenerate import regenerate

    monkeypatch.setattr(site, "PAGE_SIZE", 1)
    truth = [Ablation(name=HOSTILE, ablated_part=HOSTILE_IMG, action="REPLACE", replacement=[HOSTILE],
                      metrics=[HOSTILE_IMG])]
    plans = [trajectory(HOSTILE_PAPER, HOSTILE_MODEL, names=[HOSTILE, HOSTILE_IMG]),
             trajectory("simsiam", "gpt-4o", names=[HOSTILE_IMG]), trajectory(HOSTILE_PAPER, "gpt-4o")]
    out = store(out, plans)
    write_eval(out, [row(plans[0], truth, [(0, 0)]), row(plans[1], truth, [])],
               by_model=[{"model": HOSTILE_MODEL, "n": 1, **{m: [0.5, 0.25, 0.75] for m in
                                                            ("precision", "recall", "f1", "ndcg")}}])
    summary, _ = regenerate(out)
    assert not summary.failed
    return out


def test_hostile_names_and_ground_truth_stay_text_on_every_page(tmp_path: Path, monkeypatch):
    from planner.cards.site import SCRIPT

    out = hostile_site(tmp_path / "out", monkeypatch)
    pages = sorted((out / "site").rglob("*.html"))
    assert {p.relative_to(out / "site").parts[0] for p in pages} == {"index.html", "eval", "lm-planner"}
    assert (out / "site/eval/author/grid/2.html").is_file()
    assert any(HOSTILE_PAPER in p.name for p in (out / "site/eval/author").iterdir())
    for page in pages:
        html = page.read_text(encoding="utf-8")
        assert "<img" not in html and "<svg" not in html and "<!--" not in html
        scripts = re.findall(r"<script[^>]*>", html)
        if page.name == "index.html" or page.parent.name == "grid":  # the filter and its index of papers
            assert scripts == ['<script type="application/json" class="papers">', "<script>"]
            assert html.split("<script>")[1].split("</script>")[0] == SCRIPT
            data = html.split('class="papers">')[1].split("</script>")[0]
            assert "<" not in data and "\\u003csvg" in data  # the papers' index cannot close its element
        else:
            assert scripts == []
        assert "&lt;svg onload=document.title=&#39;pwned&#39;&gt;" in html or "simsiam" in page.name
    paper_page = next(p for p in (out / "site/eval/author").iterdir() if p.name.startswith("<svg"))
    html = paper_page.read_text(encoding="utf-8")
    assert "&lt;script&gt;document.title=&#39;pwned&#39;&lt;/script&gt;" in html  # the ground truth's name
    assert 'data-matches="0"' in html


@needs_chromium
def test_hostile_pages_in_chromium_run_only_our_script(tmp_path: Path, monkeypatch):
    out = hostile_site(tmp_path / "out", monkeypatch)
    paper_page = next(p for p in (out / "site/eval/author").iterdir() if p.name.startswith("<svg"))
    for page, title in ((out / "site/index.html", "LM-Planner trajectories"),
                        (out / "site/eval/author/grid/2.html", "Author task: page 2"),
                        (paper_page, f"{HOSTILE_PAPER}: author task")):
        dom, console = dump_dom(tmp_path, page.as_uri())
        assert console == [], console
        assert f"<title>{title.replace('&', '&amp;').replace('<', '&lt;').replace('>', '&gt;')}</title>" in dom
        assert "<img" not in dom and "<svg" not in dom
    dom, console = dump_dom(tmp_path, (out / "site/index.html").as_uri())
    assert 'data-filter="ready"' in dom  # our script ran, under the page's Content-Security-Policy


@needs_chromium
def test_page_dom_in_chromium_shows_hostile_text_as_text(tmp_path: Path):
    t = hostile_trajectory()
    write_site([t], tmp_path)
    page = tmp_path / "site" / f"{relative_name(t)}.html"
    dom, console = dump_dom(tmp_path, page.as_uri())
    assert "<title>lm-planner/gpt-4o/simsiam</title>" in dom  # no script renamed it
    assert "pwned" in dom and "&lt;script&gt;document.title='pwned'&lt;/script&gt;" in dom
    assert "<script" not in dom and "<img" not in dom and console == []


@needs_chromium
def test_console_errors_are_seen(tmp_path: Path):
    """The check every browser test relies on: a page whose script fails, and one whose script the
    Content-Security-Policy refuses, are both reported."""
    broken = tmp_path / "broken.html"
    broken.write_text("<!DOCTYPE html><html><body><script>noSuchFunction();</script></body></html>")
    refused = tmp_path / "refused.html"
    refused.write_text("<!DOCTYPE html><html><head><meta http-equiv=\"Content-Security-Policy\" "
                       "content=\"default-src 'none'\"></head><body><script>1</script></body></html>")
    assert any("noSuchFunction" in m for m in dump_dom(tmp_path, broken.as_uri())[1])
    assert any("Content Security Policy" in m for m in dump_dom(tmp_path, refused.as_uri())[1])


@needs_chromium
def test_screenshots_show_index_and_coloured_boxes(tmp_path: Path):
    from planner.cards.card import read_card_file
    from planner.cards.regenerate import regenerate

    out = store(tmp_path / "out", [read_card_file(p) for p in sorted((ROOT / "seeds").glob("*.txt"))])
    regenerate(out)
    page = out / "site/lm-planner/gpt-4o/dad-3dheads.html"
    for size in (DESKTOP, PHONE):
        index_png, page_png = tmp_path / f"index-{size[0]}.png", tmp_path / f"page-{size[0]}.png"
        assert screenshot(tmp_path, (out / "site/index.html").as_uri(), index_png, size) == []
        assert screenshot(tmp_path, page.as_uri(), page_png, (size[0], 1400)) == []
    page_png = tmp_path / f"page-{DESKTOP[0]}.png"  # on a phone the plan box is below the first screen
    assert count_near(page_png, (0x9C, 0x27, 0xB0)) > 500  # the purple plan box's left border
    assert count_near(page_png, (0x21, 0x96, 0xF3)) > 500  # the blue reasoning box's left border
    dom, console = dump_dom(tmp_path, (out / "site/index.html").as_uri())
    assert "LM-Planner trajectories" in dom and "dad-3dheads" in dom and "5 ablations, not scored" in dom
    assert "No evaluation yet" in dom and console == []


@needs_chromium
def test_the_filter_finds_papers_and_models_across_pages(tmp_path: Path, monkeypatch):
    """250 papers on three grid pages: the address's filter hides rows and columns of the page and lists
    matching papers of the other pages, linked to their paper pages."""
    from planner.cards.regenerate import regenerate

    out = store(tmp_path / "out", [trajectory(f"paper-{i:03d}", m) for i in range(250)
                                   for m in ("gpt-4o", "o3-mini")])
    regenerate(out)
    index = out / "site/index.html"
    assert index.read_text(encoding="utf-8").count('<th scope="row">') == 100
    dom, console = dump_dom(tmp_path, index.as_uri() + "#paper=paper-01&model=o3")
    assert console == []
    grid = dom.split('<table class="grid">')[1].split("</table>")[0]
    shown = re.findall(r'<tr><th scope="row"><a href="eval/author/(paper-\d+)\.html"', grid)
    assert shown == [f"paper-{i:03d}" for i in range(10, 20)]
    assert '<th hidden="">gpt-4o</th>' in grid and "<th>o3-mini</th>" in grid
    assert dom.split('class="elsewhere note">')[1].startswith("</p>")  # no match on another page
    dom, console = dump_dom(tmp_path, index.as_uri() + "#paper=PAPER-1")
    elsewhere = dom.split('class="elsewhere note">')[1].split("</p>")[0]
    assert console == [] and "paper-0" not in elsewhere and elsewhere.endswith(" and 50 more")
    assert elsewhere.count("<a ") == 50 and '<a href="eval/author/paper-105.html">paper-105</a>' in elsewhere
    page3 = out / "site/eval/author/grid/3.html"
    dom, console = dump_dom(tmp_path, page3.as_uri() + "#paper=paper-0")
    assert console == [] and 'href="../../../eval/author/paper-001.html"' in dom  # links from a page's depth
    assert (out / "site/eval/author/paper-249.html").is_file()
