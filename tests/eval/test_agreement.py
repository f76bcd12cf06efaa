"""The blind labels, the agreement measures, the cross-validation that chooses the judge's thresholds,
and the README's agreement numbers."""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from planner.eval import agreement as ag
from planner.eval.labels import load_labelling, load_named
from planner.eval.offline import COMPONENT_THRESHOLD, OPTION_THRESHOLD
from planner.papers.ground_truth import reported_ablations

ROOT = Path(__file__).parents[2]
LABELS = ROOT / "tests" / "data" / "labels"


def labelled():
    return load_labelling(LABELS, "A") + load_labelling(LABELS, "B")


def test_the_labellings_are_complete_and_describe_the_library_as_it_is():
    a, b, c = (load_labelling(LABELS, x) for x in "ABC")
    assert (len(a), len(b), len(c)) == (39, 39, 32)
    assert [sum(len(lp.matches) for lp in x) for x in (a, b, c)] == [92, 102, 67]
    assert not {lp.paper for lp in a} & {lp.paper for lp in b} and len({lp.paper for lp in a + b}) == 16
    first = {lp.id: lp for lp in a + b}
    for lp in c:  # the second labeller saw the same plans and ground truth, two plans per paper
        assert (lp.plan, lp.truth) == (first[lp.id].plan, first[lp.id].truth)
    assert all(sum(lp.paper == p for lp in c) == 2 for p in {lp.paper for lp in c})
    for lp in a + b:
        assert lp.truth == [x.model_copy(update={"metrics": []}) for x in reported_ablations(lp.paper)]


def test_a_label_that_points_outside_its_plan_is_refused(tmp_path):
    (tmp_path / "packet_X.jsonl").write_text((LABELS / "packet_A.jsonl").read_text().splitlines()[0] + "\n")
    row = json.loads((LABELS / "labels_A.jsonl").read_text().splitlines()[0])
    (tmp_path / "labels_X.jsonl").write_text(json.dumps(row | {"pairs": [[40, 0]]}) + "\n")
    with pytest.raises(ValueError, match="points outside"):
        load_labelling(tmp_path, "X")


def test_measures_on_a_small_case():
    plans = [ag.Judged("p", 2, 3, gold={(0, 0), (1, 1)}, judged={(0, 0), (0, 2)}),
             ag.Judged("q", 1, 1, gold=set(), judged=set())]
    cov = ag.coverage(plans)
    assert (cov.tp, cov.fp, cov.fn, cov.tn) == (1, 1, 1, 1)
    assert ag.per_plan_coverage(plans) == (0.25, 0.25, 0.25)  # AblationBench: a plan with nothing to find scores 0
    pairs = ag.pairs(plans)
    assert (pairs.tp, pairs.fp, pairs.fn, pairs.tn) == (1, 1, 1, 4)
    assert ag.Binary(5, 0, 0, 5).kappa == 1.0 and ag.Binary(0, 5, 5, 0).kappa == -1.0
    assert ag.bootstrap(plans, lambda ps: len(ps)) == ag.bootstrap(plans, lambda ps: len(ps))


def test_a_paper_is_judged_with_thresholds_chosen_without_its_labels():
    plans = labelled()
    held_out, chosen = ag.cross_validate(plans)
    flipped = [replace(lp, matches={(i, j) for i in range(len(lp.plan)) for j in range(len(lp.truth))}
                       - lp.matches) if lp.paper == "galore" else lp for lp in plans]
    again, chosen_again = ag.cross_validate(flipped)
    assert chosen_again["galore"] == chosen["galore"]
    assert [h.judged for h in again if h.paper == "galore"] == [h.judged for h in held_out if h.paper == "galore"]
    assert chosen_again != chosen  # the other papers' choices did see galore's labels


def test_the_shipped_thresholds_are_the_ones_chosen_on_all_labels():
    assert ag.choose(labelled()) == (COMPONENT_THRESHOLD, OPTION_THRESHOLD)


def test_the_readme_reports_what_bench_agreement_prints():
    sys.path.insert(0, str(ROOT / "bench"))
    import agreement

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for line in agreement.agreement_table():
        assert line in readme, line
    assert agreement.heldout_line().split(": ", 1)[1] in readme  # the numbers, after the README's own words
    assert len(load_named(agreement.HELDOUT)) == 16
