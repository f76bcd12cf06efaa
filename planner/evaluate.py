"""Scoring plans against the papers' ground truth, the way AblationBench scores them.

Per trajectory (AblationBench's AuthorAblation definitions):
  a ground-truth ablation is found when a judge matches it to some plan ablation;
  recall    = found ground-truth ablations / all ground-truth ablations;
  precision = found / (found + plan ablations that match nothing);
  F1        = their harmonic mean (0 when both are 0).
With --top-k K only the plan's first K ablations count (the judge still sees them all).
nDCG follows the planner's own ranking: relevance 1 for a plan ablation that matches
something, discounted by log2(rank + 1), over the ideal ranking. Per model: mean and
sample standard deviation over trajectories.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import asdict, dataclass

from planner.errors import UsageError
from planner.ground_truth import reported_ablations
from planner.schema import Ablation, Trajectory

Match = set[tuple[int, int]]  # (plan index, ground-truth index), both 0-based


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
    matches: list[tuple[int, int]]
    top_k: int | None = None

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
        model=t.model, paper=t.paper, task=t.task, precision=precision, recall=recall,
        f1=_f1(precision, recall), ndcg=ndcg(relevant, len(ground_truth)), planned=planned,
        ground_truth=len(ground_truth), found=found, matches=sorted(kept), top_k=top_k,
    )


def mean_std(values: list[float]) -> tuple[float, float]:
    if not values:
        return 0.0, 0.0
    return statistics.fmean(values), statistics.stdev(values) if len(values) > 1 else 0.0


def by_model(scores: list[Score]) -> dict[str, dict[str, tuple[float, float]]]:
    """Mean and standard deviation of each metric per model (slug-grouped, display name kept)."""
    groups: dict[str, list[Score]] = {}
    for s in scores:
        groups.setdefault(s.model.replace(".", ""), []).append(s)
    table = {}
    for group in groups.values():
        name = max((s.model for s in group), key=lambda m: m.count("."))  # prefer the dotted display name
        table[name] = {m: mean_std([getattr(s, m) for s in group]) for m in ("precision", "recall", "f1", "ndcg")}
        table[name]["n"] = (len(group), 0.0)
    return dict(sorted(table.items()))


def select(trajectories: list[Trajectory], papers: list[str] | None, models: list[str] | None,
           task: str) -> list[Trajectory]:
    """The trajectories to score: the task's, filtered by paper ids and model names or slugs."""
    wanted_models = {m.replace(".", "") for m in models} if models else None
    return [
        t for t in trajectories
        if t.task == task
        and (papers is None or t.paper in papers)
        and (wanted_models is None or t.slug in wanted_models)
    ]


def evaluate(trajectories: list[Trajectory], judge, top_k: int | None) -> tuple[list[Score], list[str]]:
    """Score every trajectory whose paper has ground truth; also say which were skipped and why."""
    if top_k is not None and top_k < 1:
        raise UsageError(f"--top-k must be at least 1, got {top_k}")
    scores, skipped = [], []
    for t in trajectories:
        truth = reported_ablations(t.paper)
        if truth is None:
            skipped.append(f"{t.model} on {t.paper}: no ground truth for this paper")
            continue
        scores.append(score(t, truth, judge.match(t.paper, t.plan.ablations, truth), top_k))
    return scores, skipped
