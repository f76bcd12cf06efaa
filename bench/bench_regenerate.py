"""Regenerating 2,000 cards with their index and site: from scratch (target under 3 s) and when
nothing changed (target under 1 s: only changed files are written, so an unchanged tree costs reads)."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from _common import ROOT, report

CARDS = 2000


def main() -> None:
    from planner.cards.card import read_card_file, write_card
    from planner.cards.outdir import claim
    from planner.cards.regenerate import regenerate
    from planner.cards.store import save_trajectory

    seeds = [read_card_file(p) for p in sorted((ROOT / "seeds").glob("*.txt"))]
    with tempfile.TemporaryDirectory(dir=ROOT) as tmp:  # on the project's disk, not a tmpfs
        out = claim(Path(tmp) / "out")
        for i in range(CARDS):
            base = seeds[i % len(seeds)]
            t = base.model_copy(update={"paper": f"paper-{i // 20:03d}", "slug": f"model-{i % 20:02d}",
                                        "model": f"model-{i % 20:02d}"})
            save_trajectory(out, t, write_card(t))
        for card in out.rglob("*.md"):
            card.unlink()  # from scratch: every card, page and the index must be written
        started = time.perf_counter()
        summary, _ = regenerate(out)
        scratch = time.perf_counter() - started
        assert summary.done == CARDS and not summary.failed and summary.unchanged == 0
        started = time.perf_counter()
        summary, _ = regenerate(out)
        unchanged = time.perf_counter() - started
        assert summary.unchanged == CARDS
    report(f"regenerate {CARDS} cards + index + site from scratch", scratch, 3.0, "s")
    report(f"regenerate {CARDS} unchanged cards + index + site", unchanged, 1.0, "s")


if __name__ == "__main__":
    main()
