"""Scores of one plan against a paper's ground truth, the way AblationBench scores them.

Per trajectory (AblationBench's AuthorAblation definitions):
  a ground-truth ablation is found when a judge matches it to some plan ablation;
  recall    = found ground-truth ablations / all ground-truth ablations;
  precision = found / (found + plan ablations that match nothing);
  F1        = their harmonic mean (0 when both are 0).
With --top-k K only the plan's first K ablations count (the judge still sees them all).
nDCG follows the planner's own ranking: relevance 1 for a plan ablation that matches
something, discounted by log2(rank + 1), over the ideal ranking. Per model: mean and
a 95% bootstrap interval of that mean over trajectories, under the model's display name.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

from planner.core.schema import Ablation, Trajectory
from planner.eval.offline import Match
from planner.registry import display_name, model_slug


@dataclass
class Score:
    model: str
    paper: str
    task: str
    precision: float
    recall: float
    f1: float
    ndcg: float
    planned: int
    ground_truth: int
    found: int
    matches: list[tuple[int, int]]  # (plan index, ground-truth index), 0-based
    top_k: int | None = None
    slug: str = ""  # the model's folder name, where its card is
    plan: list[str] = field(default_factory=list)  # the plan's ablation names, in its order
    truth: list[dict] = field(default_factory=list)  # the ground-truth ablations scored against, in order
    METRICS = ("precision", "recall", "f1", "ndcg")

    def row(self) -> dict:
        return asdict(self)


def _f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r else 0.0


def ndcg(relevant: list[bool], ideal_hits: int) -> float:
    """Binary-relevance nDCG of a ranked list against the best possible ordering."""
    dcg = sum(1 / math.log2(rank + 2) for rank, hit in enumerate(relevant) if hit)
    idcg = sum(1 / math.log2(rank + 2) for rank in range(min(ideal_hits, len(relevant))))
    return dcg / idcg if idcg else 0.0


def plan_prf(planned: int, truth: int, matches: Match) -> tuple[float, float, float]:
    """Precision, recall and F1 of one plan of `planned` items against `truth` ground-truth items."""
    found = len({j for _, j in matches})
    unmatched = planned - len({i for i, _ in matches})
    precision = found / (found + unmatched) if found + unmatched else 0.0
    recall = found / truth if truth else 0.0
    return precision, recall, _f1(precision, recall)


def score(t: Trajectory, ground_truth: list[Ablation], matches: Match, top_k: int | None = None) -> Score:
    planned = len(t.plan.ablations) if top_k is None else min(top_k, len(t.plan.ablations))
    kept = {(i, j) for i, j in matches if i < planned}
    found = len({j for _, j in kept})
    precision, recall, f1 = plan_prf(planned, len(ground_truth), kept)
    relevant = [any(i == p for p, _ in kept) for i in range(planned)]
    return Score(
        precision=precision, recall=recall, f1=f1, ndcg=ndcg(relevant, len(ground_truth)), planned=planned,
        ground_truth=len(ground_truth), found=found, matches=sorted(kept), top_k=top_k, **_about(t, ground_truth),
    )


def _about(t: Trajectory, truth: list[Ablation]) -> dict:
    """Whose plan a score is, and the names behind its match indices (both kinds of score carry them)."""
    return {"model": display_name(t.model), "paper": t.paper, "task": t.task, "slug": t.slug,
            "plan": [a.name for a in t.plan.ablations], "truth": [a.model_dump() for a in truth]}


@dataclass
class ReviewScore:
    """A reviewer plan against the ablations its paper already reports: how many it merely repeats.

    Without reviewer data (the ablations reviewers asked for) recall of real requests
    cannot be measured offline; what can be is the share of suggestions that duplicate
    an ablation the paper reports (lower is better).
    """

    model: str
    paper: str
    task: str
    planned: int
    reported: int
    duplicates: int
    duplicate_share: float
    matches: list[tuple[int, int]]  # (plan index, reported-ablation index), 0-based
    top_k: int | None = None
    slug: str = ""
    plan: list[str] = field(default_factory=list)
    truth: list[dict] = field(default_factory=list)  # the ablations the paper reports
    METRICS = ("duplicate_share",)

    def row(self) -> dict:
        return asdict(self)


def review_score(t: Trajectory, reported: list[Ablation], matches: Match) -> ReviewScore:
    planned = len(t.plan.ablations)
    duplicates = len({i for i, _ in matches})
    return ReviewScore(planned=planned, reported=len(reported), duplicates=duplicates,
                       duplicate_share=duplicates / planned if planned else 0.0, matches=sorted(matches),
                       **_about(t, reported))


INTERVAL_ROUNDS = 2000  # bootstrap resamples: the interval's ends move by about 0.002 between seeds


def mean_interval(values: list[float]) -> tuple[float, float, float]:
    """The mean and a 95% percentile-bootstrap interval of it, over the given per-plan scores.

    A bootstrap interval stays inside the scores' own range (a t interval of F1 can leave [0, 1]
    for a handful of plans), and a fixed seed makes every run print the same numbers."""
    if not values:
        return 0.0, 0.0, 0.0
    import numpy as np

    data = np.asarray(values, dtype=float)
    means = np.random.default_rng(0).choice(data, size=(INTERVAL_ROUNDS, len(data))).mean(axis=1)
    low, high = np.quantile(means, [0.025, 0.975])
    return float(data.mean()), float(low), float(high)


def by_model(scores: list[Score] | list[ReviewScore]) -> dict[str, dict[str, tuple[float, ...]]]:
    """Per model (slug-grouped, display name kept): n, and each metric's mean with its 95% interval."""
    groups: dict[str, list] = {}
    for s in scores:
        groups.setdefault(model_slug(s.model), []).append(s)
    table = {}
    for group in groups.values():
        name = display_name(max((s.model for s in group), key=lambda m: m.count(".")))
        table[name] = {m: mean_interval([getattr(s, m) for s in group]) for m in group[0].METRICS}
        table[name]["n"] = (len(group),)
    return dict(sorted(table.items()))
