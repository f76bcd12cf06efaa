"""The scores: AblationBench's precision/recall/F1, top-k, nDCG, per-model means, reviewer duplicates."""

from __future__ import annotations

import math

import pytest

from planner.core.schema import Ablation, Plan, Trajectory
from planner.eval.metrics import by_model, mean_interval, ndcg, review_score, score


def traj(n: int, model: str = "gpt-4o", paper: str = "simsiam", task: str = "author") -> Trajectory:
    abls = [Ablation(name=f"a{i}", ablated_part=f"p{i}", action="REMOVE", metrics=["m"]) for i in range(n)]
    return Trajectory(model=model, slug=model.replace(".", ""), paper=paper, task=task,
                      plan=Plan(reasoning="r", ablations=abls))


def test_ablationbench_precision_recall_f1():
    truth = traj(4).plan.ablations
    # plan item 0 matches two ground-truth items; plan items 3 and 4 match nothing
    s = score(traj(5), truth, {(0, 0), (0, 1), (1, 2), (2, 2)})
    assert s.found == 3 and s.recall == pytest.approx(3 / 4)
    assert s.precision == pytest.approx(3 / (3 + 2))  # found / (found + unmatched plan items)
    assert s.f1 == pytest.approx(2 * 0.6 * 0.75 / 1.35)


def test_top_k_keeps_only_the_first_k_plan_items():
    truth = traj(3).plan.ablations
    s = score(traj(5), truth, {(0, 0), (4, 1)}, top_k=2)
    assert (s.planned, s.found, s.precision, s.recall) == (2, 1, 0.5, pytest.approx(1 / 3))


def test_ndcg_rewards_early_hits():
    assert ndcg([True, False, False], 1) == 1.0
    assert ndcg([False, False, True], 1) == pytest.approx(1 / math.log2(4))
    assert ndcg([False, False], 2) == 0.0


def test_by_model_groups_aliases_under_the_display_name():
    truth = traj(2).plan.ablations
    scores = [score(traj(2, "claude-3.5-sonnet"), truth, {(0, 0), (1, 1)}),
              score(traj(2, "claude-35-sonnet", "smm"), truth, set())]
    assert [s.model for s in scores] == ["claude-3.5-sonnet", "claude-3.5-sonnet"]
    table = by_model(scores)
    assert list(table) == ["claude-3.5-sonnet"]
    assert table["claude-3.5-sonnet"]["f1"] == (0.5, 0.0, 1.0)  # two plans: F1 1 and 0
    assert table["claude-3.5-sonnet"]["n"] == (2,)


def test_reviewer_duplicate_share_counts_plan_items_that_repeat_a_reported_ablation():
    reported = traj(3).plan.ablations
    s = review_score(traj(2, task="reviewer"), reported, {(0, 1), (0, 2)})
    assert (s.duplicates, s.duplicate_share, s.reported) == (1, 0.5, 3)
    assert by_model([s])["gpt-4o"]["duplicate_share"] == (0.5, 0.5, 0.5)


def test_mean_interval_is_a_repeatable_95_percent_bootstrap_interval_of_the_mean():
    values = [0.0, 1.0] * 50  # mean 0.5, standard error 0.05: a 95% interval of about 0.40 to 0.60
    mean, low, high = mean_interval(values)
    assert mean == 0.5 and low == pytest.approx(0.40, abs=0.015) and high == pytest.approx(0.60, abs=0.015)
    assert mean_interval(values) == (mean, low, high)  # the same numbers on every run
    assert mean_interval([0.3]) == (0.3, 0.3, 0.3)
    few = mean_interval([0.0, 0.2, 0.9])
    assert 0.0 <= few[1] < few[0] < few[2] <= 0.9  # never outside the scores' own range
