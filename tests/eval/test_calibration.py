"""The README's calibration table is what bench/calibration.py computes, number for number."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
PLANS = ROOT.parent / "shared" / "published-plans" / "lm-planner"


@pytest.mark.skipif(not PLANS.is_dir(), reason="shared/published-plans is not beside the checkout")
def test_the_readme_table_is_what_the_calibration_computes(tmp_path):
    sys.path.insert(0, str(ROOT / "bench"))
    import calibration

    from planner.cards.regenerate import Summary, import_cards, load_all
    from planner.papers.ground_truth import reported_ablations

    import_cards([PLANS], tmp_path)
    table = calibration.f1_by_model(load_all(tmp_path, Summary()), reported_ablations)
    human = calibration.human_f1_by_model()
    assert {m: set(per) for m, per in table.items()} == {m: set(per) for m, per in human.items()}  # the same plans
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for line in calibration.rows(table, human):
        assert line in readme, line
