"""Scores of one plan against a paper's ground truth, the way AblationBench scores them.

Per trajectory (AblationBench's AuthorAblation definitions):
  a ground-truth ablation is found when a judge matches it to some plan ablation;
  recall    = found ground-truth ablations / all ground-truth ablations;
  precision = found / (found + plan ablations that match nothing);
  F1        = their harmonic mean (0 when both are 0).
With --top-k K only the plan's first K ablations count (the judge still sees them all).
nDCG follows the planner's own ranking: relevance 1 for a plan ablation that matches
something, discounted by log2(rank + 1), over the ideal ranking. Per model: mean and
sample standard deviation over trajectories, under the model's display name.
"""

from __future__ import annotations

import math
import statistics
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


def score(t: Trajectory, ground_truth: list[Ablation], matches: Match, top_k: int | None = None) -> Score:
    planned = len(t.plan.ablations) if top_k is None else min(top_k, len(t.plan.ablations))
    kept = {(i, j) for i, j in matches if i < planned}
    found = len({j for _, j in kept})
    unmatched = planned - len({i for i, _ in kept})
    precision = found / (found + unmatched) if found + unmatched else 0.0
    recall = found / len(ground_truth) if ground_truth else 0.0
    relevant = [any(i == p for p, _ in kept) for i in range(planned)]
    return Score(
        model=display_name(t.model), paper=t.paper, task=t.task, precision=precision, recall=recall,
        f1=_f1(precision, recall), ndcg=ndcg(relevant, len(ground_truth)), planned=planned,
        ground_truth=len(ground_truth), found=found, matches=sorted(kept), top_k=top_k, slug=t.slug,
        plan=[a.name for a in t.plan.ablations], truth=[a.model_dump() for a in ground_truth],
    )


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
    return ReviewScore(model=display_name(t.model), paper=t.paper, task=t.task, planned=planned,
                       reported=len(reported), duplicates=duplicates,
                       duplicate_share=duplicates / planned if planned else 0.0, matches=sorted(matches),
                       slug=t.slug, plan=[a.name for a in t.plan.ablations],
                       truth=[a.model_dump() for a in reported])


def mean_std(values: list[float]) -> tuple[float, float]:
    if not values:
        return 0.0, 0.0
    return statistics.fmean(values), statistics.stdev(values) if len(values) > 1 else 0.0


def by_model(scores: list[Score] | list[ReviewScore]) -> dict[str, dict[str, tuple[float, float]]]:
    """Mean and standard deviation of each metric per model (slug-grouped, display name kept)."""
    groups: dict[str, list] = {}
    for s in scores:
        groups.setdefault(model_slug(s.model), []).append(s)
    table = {}
    for group in groups.values():
        name = display_name(max((s.model for s in group), key=lambda m: m.count(".")))
        table[name] = {m: mean_std([getattr(s, m) for s in group]) for m in group[0].METRICS}
        table[name]["n"] = (len(group), 0.0)
    return dict(sorted(table.items()))


@dataclass
class Agreement:
    """How a judge agrees with human labels, AblationBench's way and pair by pair.

    AblationBench scores a judge per plan: for each ground-truth ablation, did the
    judge find it in the plan as the humans did; precision, recall and F1 of those
    decisions, averaged over plans. `pairs` counts every (plan item, truth item) pair.
    """

    plans: int
    truth_items: int
    pairs: int
    precision: float
    recall: float
    f1: float
    pair_agreement: float
    pair_precision: float
    pair_recall: float


def _prf(gold: list[bool], judged: list[bool]) -> tuple[float, float, float]:
    tp = sum(g and j for g, j in zip(gold, judged))
    fp = sum(j and not g for g, j in zip(gold, judged))
    fn = sum(g and not j for g, j in zip(gold, judged))
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return p, r, _f1(p, r)


def agreement(labelled: list[tuple[int, int, Match, Match]]) -> Agreement:
    """`labelled`: per plan, (plan size, truth size, human matches, judge matches)."""
    per_plan, gold_pairs, judged_pairs = [], [], []
    for plan_size, truth_size, human, judged in labelled:
        gold = [any((i, j) in human for i in range(plan_size)) for j in range(truth_size)]
        found = [any((i, j) in judged for i in range(plan_size)) for j in range(truth_size)]
        per_plan.append(_prf(gold, found))
        cells = [(i, j) for i in range(plan_size) for j in range(truth_size)]
        gold_pairs += [c in human for c in cells]
        judged_pairs += [c in judged for c in cells]
    pp, pr, _ = _prf(gold_pairs, judged_pairs)
    return Agreement(
        plans=len(labelled), truth_items=sum(t for _, t, _, _ in labelled), pairs=len(gold_pairs),
        precision=statistics.fmean(x[0] for x in per_plan), recall=statistics.fmean(x[1] for x in per_plan),
        f1=statistics.fmean(x[2] for x in per_plan),
        pair_agreement=sum(g == j for g, j in zip(gold_pairs, judged_pairs)) / len(gold_pairs),
        pair_precision=pp, pair_recall=pr,
    )
