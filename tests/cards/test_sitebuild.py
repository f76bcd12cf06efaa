"""The site as a research tool, end to end: after import-cards and `planner eval`, a page per paper and
task shows every model's plan beside the ground truth with the matches eval found, and the front page
shows eval's per-model table exactly as it was printed, its chart, and the grid coloured by score."""

from __future__ import annotations

import html
import json
import os
import re
from pathlib import Path

import pytest
from browser import (
    DESKTOP,
    PHONE,
    count_near,
    dump_dom,
    needs_chromium,
    screenshot,
    stripes,
)
from sitedata import store, trajectory

from planner.cards.regenerate import regenerate
from planner.cli.main import main

ROOT = Path(__file__).parents[2]
PUBLISHED = ROOT.parent / "shared" / "published-plans" / "lm-planner"
PURPLE, GREEN, RED = (0x9C, 0x27, 0xB0), (0x2E, 0x7D, 0x32), (0xC6, 0x28, 0x28)


def evaluate(out: Path, capsys, *extra: str) -> tuple[list[list[str]], list[dict]]:
    """Run `planner eval --judge offline`; the table rows it printed and the rows of results.jsonl."""
    capsys.readouterr()
    assert main(["eval", "--out", str(out), "--judge", "offline", *extra]) == 0
    printed = capsys.readouterr()
    assert f"site: {out / 'site' / 'index.html'}" in printed.err  # eval refreshed the site
    table = [[c.strip() for c in line.strip("|").split("|")] for line in printed.out.splitlines()
             if line.startswith("| ") and not line.startswith("| model |")]
    task = "reviewer" if "reviewer" in extra else "author"
    latest = json.loads((out / "eval/latest.json").read_text(encoding="utf-8"))[task]
    results = (out / "eval" / latest / "results.jsonl").read_text(encoding="utf-8").splitlines()
    return table, [json.loads(line) for line in results]


def front_table(out: Path) -> list[list[str]]:
    page = (out / "site/index.html").read_text(encoding="utf-8")
    scores = page.split('<table class="scores">')[1].split("</table>")[0]
    return [[html.unescape(c) for c in re.findall(r"<td>(.*?)</td>", line)]
            for line in scores.splitlines() if line.startswith("<tr><td>")]


def plan_marks(page: str) -> dict[str, list[list[int] | None]]:
    """Per model on a paper page: each planned ablation's marked ground-truth indices (None: unmarked)."""
    found = {}
    for chunk in page.split('<article class="plan plan-')[1:]:
        model = html.unescape(chunk.split('data-model="')[1].split('"')[0])
        items = re.findall(r'<li class="item[^"]*"(?: data-matches="([^"]*)")?>', chunk)
        found[model] = [[int(j) for j in m.split()] if m or 'data-matches=""' in chunk else None for m in items]
    return found


def truth_entries(page: str) -> list[tuple[str, list[str]]]:
    """The ground-truth column: each entry's name and the models shown as having found it."""
    column = page.split('<article class="plan truth" id="truth">')[1].split("</article>")[0]
    entries = re.findall(r'<strong class="field">(.*?)</strong>.*?<div class="mark">(.*?)</div>', column, re.DOTALL)
    return [(html.unescape(name), [html.unescape(t) for t in re.findall(r'<span class="tag">(.*?)</span>', mark)])
            for name, mark in entries]


def check_paper_page(out: Path, paper: str, rows: list[dict]) -> str:
    """The paper page shows exactly what results.jsonl says: every scored plan, its scores, each planned
    ablation's matches, and the ground truth with the models that found each entry."""
    page = (out / f"site/eval/author/{paper}.html").read_text(encoding="utf-8")
    mine = [r for r in rows if r["paper"] == paper]
    marks = plan_marks(page)
    assert sorted(marks) == sorted(r["model"] for r in mine)
    for r in mine:
        expected = [sorted(j for i2, j in r["matches"] if i2 == i) for i in range(len(r["plan"]))]
        assert [m or [] for m in marks[r["model"]]] == expected, r["model"]
        assert f"F1 {r['f1']:.3f}" in page.split(f'data-model="{html.escape(r["model"])}"')[1].split("</article>")[0]
    truth = truth_entries(page)
    assert [name for name, _ in truth] == [t["name"] for t in mine[0]["truth"]]
    for j, (_, models) in enumerate(truth):
        assert sorted(models) == sorted(r["model"] for r in mine if any(m[1] == j for m in r["matches"]))
    return page


def test_eval_puts_its_table_chart_and_matches_on_the_site(tmp_path: Path, capsys):
    out = tmp_path / "out"
    assert main(["import-cards", str(ROOT / "seeds"), "--out", str(out)]) == 0
    table, rows = evaluate(out, capsys)
    assert len(table) == 2 and front_table(out) == table  # every cell exactly as eval printed it
    chart = out / "site/eval/author/f1_by_model.png"
    assert chart.read_bytes() == (out / "eval/author/offline/f1_by_model.png").read_bytes()
    front = (out / "site/index.html").read_text(encoding="utf-8")
    assert '<img class="chart" src="eval/author/f1_by_model.png"' in front
    for r in rows:  # each cell: the plan's F1, coloured, linking to its card page
        shade = min(4, int(r["f1"] * 5))
        assert (f'<td class="s{shade}" title="5 ablations, f1 {r["f1"]:.3f}"><a href="lm-planner/{r["slug"]}/'
                f'{r["paper"]}.html">{r["f1"]:.2f}</a></td>') in front
    assert 'title="5 ablations, not scored"><a href="lm-planner/gpt-4o/dad-3dheads.html">plan</a>' in front
    for paper in ("simsiam", "backgroundmattingv2", "smm"):
        check_paper_page(out, paper, rows)
    unjudged = (out / "site/eval/author/dad-3dheads.html").read_text(encoding="utf-8")
    assert "The latest evaluation scored no plan of this paper" in unjudged
    assert "not scored by the latest evaluation" in unjudged


@needs_chromium
def test_seed_pages_render_in_chromium_without_a_script_error(tmp_path: Path, capsys):
    out = tmp_path / "out"
    assert main(["import-cards", str(ROOT / "seeds"), "--out", str(out)]) == 0
    table, _ = evaluate(out, capsys)
    front, paper = out / "site/index.html", out / "site/eval/author/backgroundmattingv2.html"
    for url in (front.as_uri(), paper.as_uri()):
        for size in (DESKTOP, PHONE):
            assert screenshot(tmp_path, url, tmp_path / f"{len(url)}-{size[0]}.png", size) == []
    dom, console = dump_dom(tmp_path, front.as_uri())
    assert console == [] and 'data-filter="ready"' in dom
    assert all(cell in dom for row in table for cell in row[2:])  # every score as eval printed it
    tall = tmp_path / "paper-tall.png"
    assert screenshot(tmp_path, paper.as_uri(), tall, (DESKTOP[0], 2400)) == []
    assert stripes(tall, PURPLE) == 2  # both plans side by side beside the ground truth
    assert count_near(tall, GREEN) > 300 and count_near(tall, RED) > 300  # matched and unmatched entries


@pytest.mark.skipif(not PUBLISHED.is_dir(), reason="shared/published-plans is not beside the checkout")
def test_published_simsiam_plans_side_by_side_with_the_ground_truth(tmp_path: Path, capsys):
    from browser import CHROMIUM

    from planner.papers.ground_truth import load

    out = tmp_path / "out"
    cards = sorted(PUBLISHED.glob("*/simsiam.md"))
    assert len(cards) == 5
    assert main(["import-cards", *map(str, cards), "--out", str(out)]) == 0
    table, rows = evaluate(out, capsys)
    assert len(rows) == 5 and front_table(out) == table
    assert [r[0] for r in table] == ["claude-3.5-sonnet", "gemini-2.5-flash", "gpt-4o", "llama-3.1-405b-instruct",
                                     "o3-mini"]
    page = check_paper_page(out, "simsiam", rows)
    assert [name for name, _ in truth_entries(page)] == [e.name for e in load("simsiam").ablations]
    assert "Exploring Simple Siamese Representation Learning" in page
    if CHROMIUM is None and not os.environ.get("CI"):
        pytest.skip("chromium is not installed (CI installs it)")
    paper = out / "site/eval/author/simsiam.html"
    for url in ((out / "site/index.html").as_uri(), paper.as_uri()):
        dom, console = dump_dom(tmp_path, url)
        assert console == [] and "simsiam" in dom
    wide, narrow = tmp_path / "wide.png", tmp_path / "narrow.png"
    assert screenshot(tmp_path, paper.as_uri(), wide, (DESKTOP[0], 3000)) == []
    assert screenshot(tmp_path, paper.as_uri(), narrow, (PHONE[0], 12000)) == []
    assert stripes(wide, PURPLE) == 5  # the five plans side by side on a desktop...
    assert stripes(narrow, PURPLE) == 1  # ...and one after another on a phone


def test_reviewer_pages_show_the_reported_ablations_and_the_repeats(tmp_path: Path, capsys):
    reported = "Remove stop-gradient"  # simsiam reports it; a reviewer plan asking for it repeats the paper
    plans = [trajectory("simsiam", "gpt-4o", "reviewer", [reported, "Vary the momentum encoder"]),
             trajectory("simsiam", "o3-mini", "reviewer", ["Train on a tenth of ImageNet", "Swap the optimizer"])]
    out = store(tmp_path / "out", plans)
    table, rows = evaluate(out, capsys, "--task", "reviewer")
    assert front_table(out) == table and len(table) == 2
    page = (out / "site/eval/reviewer/simsiam.html").read_text(encoding="utf-8")
    assert "Reported by the paper" in page and "repeated by" in page
    marks = plan_marks(page)
    gpt = next(r for r in rows if r["model"] == "gpt-4o")
    assert marks["gpt-4o"][0] == sorted(j for i, j in gpt["matches"] if i == 0) != []
    assert marks["o3-mini"] == [[], []] and "✓ new: not reported by the paper" in page
    assert '<li class="item dup"' in page and f"repeats {gpt['duplicate_share']:.3f} of its suggestions" in page


def test_a_plan_changed_after_the_evaluation_shows_unscored(tmp_path: Path, capsys):
    from planner.cards.card import write_card
    from planner.cards.store import save_trajectory

    out = tmp_path / "out"
    assert main(["import-cards", str(ROOT / "seeds"), "--out", str(out)]) == 0
    evaluate(out, capsys)
    simsiam = next(t for t in regenerate(out)[1] if t.paper == "simsiam")
    changed = simsiam.model_copy(update={"plan": trajectory("simsiam", names=["a new idea"]).plan})
    save_trajectory(out, changed, write_card(changed))
    summary, _ = regenerate(out)
    assert not summary.failed
    front = (out / "site/index.html").read_text(encoding="utf-8")
    assert "1 plan(s) changed since this evaluation" in front
    assert '<a href="lm-planner/llama-31-405b-instruct/simsiam.html">plan</a>' in front
    page = (out / "site/eval/author/simsiam.html").read_text(encoding="utf-8")
    assert "changed since the evaluation: not scored" in page and "data-matches" not in page
    assert "The latest evaluation scored 1 of these plans before they changed" in page


def test_without_an_evaluation_a_paper_page_shows_the_plans_and_how_to_compare_them(tmp_path: Path):
    """Only an evaluation's files bring ground truth to the site: `run` refreshes the site, and a planning
    run never opens the library's ground truth (tests/core/test_prompts.py watches that)."""
    from planner.papers.ground_truth import load

    out = store(tmp_path / "out", [trajectory("simsiam"), trajectory("simsiam", "o3-mini")])
    regenerate(out)
    page = (out / "site/eval/author/simsiam.html").read_text(encoding="utf-8")
    assert "Not evaluated yet: <code>planner eval --judge offline</code>" in page
    assert "Exploring Simple Siamese Representation Learning" in page and sorted(plan_marks(page)) == ["gpt-4o",
                                                                                                       "o3-mini"]
    assert not any(html.escape(e.name) in page for e in load("simsiam").ablations)


def test_paper_pages_are_rendered_only_when_their_inputs_change(tmp_path: Path, capsys):
    out = tmp_path / "out"
    assert main(["import-cards", str(ROOT / "seeds"), "--out", str(out)]) == 0
    regenerate(out)
    page = out / "site/eval/author/simsiam.html"
    before = page.stat().st_mtime_ns
    regenerate(out)
    assert page.stat().st_mtime_ns == before  # nothing changed: neither rendered nor written
    evaluate(out, capsys)
    assert "data-matches" in page.read_text(encoding="utf-8")  # the evaluation is one of its inputs
    (out / "lm-planner/llama-31-405b-instruct/simsiam.json").unlink()
    regenerate(out)
    assert not page.exists()  # its only plan is gone, and the page is ours: removed
    assert (out / "site/eval/author/smm.html").is_file()


def test_the_grid_works_out_its_rows_and_columns_once(tmp_path: Path):
    """Rendering reads each cell by key: no pass over every cell per row or per column (the quadratic
    `Grid.slugs` re-sorted all cells each time a row read it)."""
    from planner.cards.index import build_grids, render_index

    class Counting(dict):
        passes = 0

        def __iter__(self):
            Counting.passes += 1
            return super().__iter__()

        def items(self):
            Counting.passes += 1
            return super().items()

    trajectories = [trajectory(f"paper-{i}", m) for i in range(30) for m in ("gpt-4o", "o3-mini", "claude-3.5-sonnet")]
    grids = build_grids(trajectories)
    grids[0].cells = Counting(grids[0].cells)
    text = render_index(grids, len(trajectories))
    assert Counting.passes == 0 and text.count("[5 ablations]") == 90
    assert grids[0].papers[:2] == ["paper-0", "paper-1"] and grids[0].names["claude-35-sonnet"] == "claude-3.5-sonnet"
