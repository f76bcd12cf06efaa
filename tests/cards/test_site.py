"""The HTML site: hostile model text stays text, and the pages render in a real chromium."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from planner.cards.store import relative_name
from planner.core.schema import Ablation, Plan, Trajectory


def write_site(trajectories: list[Trajectory], out: Path) -> Path:
    """Store the trajectories in `out` and let regenerate write the site; returns its index."""
    from planner.cards.card import write_card
    from planner.cards.outdir import claim
    from planner.cards.regenerate import regenerate
    from planner.cards.store import save_trajectory

    out = claim(out)
    for t in trajectories:
        save_trajectory(out, t, write_card(t))
    summary, _ = regenerate(out)
    assert not summary.failed and summary.done == len(trajectories)
    return out / "site" / "index.html"

HOSTILE = "<script>document.title='pwned'</script>"
HOSTILE_IMG = "<img src=x onerror=\"document.title='pwned'\">"


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
    assert (tmp_path / "site/reviewer/lm-planner/gpt-4o/simsiam.html").is_file()


# ---------------------------------------------------------------- real browser

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None and not os.environ.get("CI"), reason="chromium is not installed (CI installs it)"
)


def chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    assert CHROMIUM, "chromium is required in CI: apt-get install -y chromium"
    flags = [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1000,1400",
    ]
    return subprocess.run([CHROMIUM, *flags, *args], capture_output=True, text=True, timeout=120)


@needs_chromium
def test_page_dom_in_chromium_shows_hostile_text_as_text(tmp_path: Path):
    t = hostile_trajectory()
    write_site([t], tmp_path)
    page = tmp_path / "site" / f"{relative_name(t)}.html"
    dom = chromium(tmp_path, "--dump-dom", page.as_uri()).stdout
    assert "<title>lm-planner/gpt-4o/simsiam</title>" in dom  # no script renamed it
    assert "pwned" in dom and "&lt;script&gt;document.title='pwned'&lt;/script&gt;" in dom
    assert "<script" not in dom and "<img" not in dom


def _count_near(png: Path, rgb: tuple[int, int, int], tol: int = 12) -> int:
    import numpy as np
    from PIL import Image

    with Image.open(png) as img:
        pixels = np.asarray(img.convert("RGB"), dtype=int)
    return int((np.abs(pixels - np.array(rgb)) <= tol).all(axis=-1).sum())


@needs_chromium
def test_screenshots_show_index_and_coloured_boxes(tmp_path: Path):
    from planner.cards.card import read_card_file, write_card
    from planner.cards.regenerate import regenerate
    from planner.cards.store import save_trajectory

    seeds = sorted((Path(__file__).parents[2] / "seeds").glob("*.txt"))
    out = tmp_path / "out"
    for seed in seeds:
        t = read_card_file(seed)
        save_trajectory(out, t, write_card(t))
    regenerate(out)
    index_png, page_png = tmp_path / "index.png", tmp_path / "page.png"
    chromium(tmp_path, f"--screenshot={index_png}", (out / "site/index.html").as_uri())
    page = out / "site/lm-planner/gpt-4o/dad-3dheads.html"
    chromium(tmp_path, f"--screenshot={page_png}", page.as_uri())
    assert index_png.stat().st_size > 5000 and page_png.stat().st_size > 5000
    assert _count_near(page_png, (0x9C, 0x27, 0xB0)) > 500  # the purple plan box's left border
    assert _count_near(page_png, (0x21, 0x96, 0xF3)) > 500  # the blue reasoning box's left border
    dom = chromium(tmp_path, "--dump-dom", (out / "site/index.html").as_uri()).stdout
    assert "LM-Planner trajectories" in dom and "dad-3dheads" in dom and "5 ablations" in dom
