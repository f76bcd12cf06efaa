"""The README's calibration table is what bench/calibration.py computes, number for number."""

from __future__ import annotations

import re
import statistics
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
    intervals = calibration.bootstrap(table)
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for model, per in table.items():
        row = (f"| {model} | {len(per)} | {statistics.fmean(per.values()):.3f} | "
               f"{intervals[model][0]:.2f} to {intervals[model][1]:.2f} | {calibration.PUBLISHED[model]:.2f} |")
        assert row in readme, row
        low, high = intervals[model]
        assert low <= calibration.PUBLISHED[model] <= high  # the README says every published value is inside
    mean = statistics.fmean(statistics.fmean(per.values()) for per in table.values())
    assert re.search(rf"Mean over models: ours {mean:.3f}, published 0\.342", readme)
