"""How far a judge agrees with people, and how the offline judge's two thresholds are chosen.

Three levels, each judge against reference labels:
- per ground-truth ablation (AblationBench's measure of its judges): is the ablation
  covered by the plan, yes or no; precision, recall and F1 of the judge's decisions
  pooled over all ablations (with Cohen's kappa), and AblationBench's own averaging:
  the same per plan, then the mean over plans (a plan with nothing to find scores 0,
  as sklearn's zero_division=0 does there);
- per pair: is (plan item, ground-truth item) a match; pooled precision, recall, F1;
- per plan: the plan's F1 as the scores report it (planner.eval.metrics), once from
  the labels and once from the judge: mean absolute difference and Pearson correlation.
Intervals are 95% bootstrap intervals over papers (plans of one paper move together).

Thresholds are chosen on labelled plans by leave-one-paper-out cross-validation: for
each paper, the grid point with the best pooled per-ablation F1 on the other papers
judges it; only those held-out decisions are reported.
"""

from __future__ import annotations

import random
import statistics
from collections.abc import Callable
from dataclasses import dataclass

from planner.eval.labels import LabelledPlan
from planner.eval.metrics import plan_prf
from planner.eval.offline import Match, assign, judge_pairs

COMPONENT_GRID = tuple(round(0.05 + 0.05 * k, 2) for k in range(12))  # 0.05 .. 0.60
OPTION_GRID = tuple(round(0.1 + 0.1 * k, 1) for k in range(8))  # 0.1 .. 0.8
Setting = tuple[float, float]  # (component threshold, option threshold)


@dataclass(frozen=True)
class Judged:
    """One plan: its size, its ground truth's size, the reference matches and the judge's."""

    paper: str
    planned: int
    truth: int
    gold: Match
    judged: Match


@dataclass(frozen=True)
class Binary:
    """Yes/no decisions of a judge against a reference: the four counts and what follows from them."""

    tp: int
    fp: int
    fn: int
    tn: int

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def kappa(self) -> float:
        n = self.tp + self.fp + self.fn + self.tn
        seen = (self.tp + self.tn) / n
        chance = ((self.tp + self.fp) * (self.tp + self.fn) + (self.fn + self.tn) * (self.fp + self.tn)) / n ** 2
        return (seen - chance) / (1 - chance) if chance < 1 else 1.0

    @classmethod
    def of(cls, decisions: list[tuple[bool, bool]]) -> Binary:
        """From (reference, judge) decisions."""
        return cls(sum(g and j for g, j in decisions), sum(j and not g for g, j in decisions),
                   sum(g and not j for g, j in decisions), sum(not g and not j for g, j in decisions))


def _covered(matches: Match, truth: int) -> list[bool]:
    found = {j for _, j in matches}
    return [j in found for j in range(truth)]


def coverage(plans: list[Judged]) -> Binary:
    """Per ground-truth ablation: covered by the plan, as the reference says and as the judge says."""
    return Binary.of([d for p in plans for d in zip(_covered(p.gold, p.truth), _covered(p.judged, p.truth))])


def per_plan_coverage(plans: list[Judged]) -> tuple[float, float, float]:
    """AblationBench's averaging: coverage precision, recall and F1 per plan, then their means."""
    each = [coverage([p]) for p in plans]
    return (statistics.fmean(b.precision for b in each), statistics.fmean(b.recall for b in each),
            statistics.fmean(b.f1 for b in each))


def pairs(plans: list[Judged]) -> Binary:
    return Binary.of([((i, j) in p.gold, (i, j) in p.judged)
                      for p in plans for i in range(p.planned) for j in range(p.truth)])


def plan_f1(plans: list[Judged]) -> tuple[list[float], list[float]]:
    """Each plan's F1 as the scores compute it: from the reference matches, and from the judge's."""
    return ([plan_prf(p.planned, p.truth, p.gold)[2] for p in plans],
            [plan_prf(p.planned, p.truth, p.judged)[2] for p in plans])


def plan_f1_gap(plans: list[Judged]) -> float:
    gold, judged = plan_f1(plans)
    return statistics.fmean(abs(g - j) for g, j in zip(gold, judged))


def plan_f1_correlation(plans: list[Judged]) -> float:
    gold, judged = plan_f1(plans)
    try:
        return statistics.correlation(gold, judged)
    except statistics.StatisticsError:  # fewer than two plans, or one side constant
        return 0.0


MEASURES: dict[str, Callable[[list[Judged]], float]] = {
    "coverage precision": lambda ps: coverage(ps).precision,
    "coverage recall": lambda ps: coverage(ps).recall,
    "coverage F1": lambda ps: coverage(ps).f1,
    "coverage kappa": lambda ps: coverage(ps).kappa,
    "AblationBench per-plan F1": lambda ps: per_plan_coverage(ps)[2],
    "pair precision": lambda ps: pairs(ps).precision,
    "pair recall": lambda ps: pairs(ps).recall,
    "pair F1": lambda ps: pairs(ps).f1,
    "plan F1 mean absolute difference": plan_f1_gap,
    "plan F1 correlation": plan_f1_correlation,
}


def bootstrap(plans: list[Judged], measure: Callable[[list[Judged]], float], rounds: int = 1000,
              seed: int = 7) -> tuple[float, float]:
    """A 95% percentile interval, resampling papers with replacement."""
    rng = random.Random(seed)
    by_paper: dict[str, list[Judged]] = {}
    for p in plans:
        by_paper.setdefault(p.paper, []).append(p)
    papers = sorted(by_paper)
    draws = sorted(measure([p for paper in (rng.choice(papers) for _ in papers) for p in by_paper[paper]])
                   for _ in range(rounds))
    return draws[int(0.025 * rounds)], draws[int(0.975 * rounds) - 1]


def summary(plans: list[Judged], rounds: int = 1000) -> dict[str, tuple[float, float, float]]:
    """Every measure with its interval: name -> (value, low, high)."""
    return {name: (f(plans), *bootstrap(plans, f, rounds)) for name, f in MEASURES.items()}


def _all_settings(labelled: list[LabelledPlan]) -> dict[Setting, list[Match]]:
    """The offline judge's matches for every plan under every grid point (the evidence is computed once)."""
    evidence = [judge_pairs(lp.plan, lp.truth, lp.paper) for lp in labelled]
    return {(c, o): [assign(e, c, o) for e in evidence] for c in COMPONENT_GRID for o in OPTION_GRID}


def _best(labelled: list[LabelledPlan], judged: dict[Setting, list[Match]], keep: Callable[[str], bool]) -> Setting:
    """The grid point with the highest pooled coverage F1 on the kept papers (ties: the earlier point)."""
    def f1(setting: Setting) -> float:
        return coverage([Judged(lp.paper, len(lp.plan), len(lp.truth), lp.matches, m)
                         for lp, m in zip(labelled, judged[setting]) if keep(lp.paper)]).f1
    return max(judged, key=f1)


def choose(labelled: list[LabelledPlan]) -> Setting:
    """The thresholds the shipped judge uses: the best grid point on all labelled papers."""
    return _best(labelled, _all_settings(labelled), lambda _: True)


def cross_validate(labelled: list[LabelledPlan]) -> tuple[list[Judged], dict[str, Setting]]:
    """Leave-one-paper-out: each paper judged with the thresholds chosen on the others."""
    judged = _all_settings(labelled)
    chosen = {paper: _best(labelled, judged, lambda other, p=paper: other != p)
              for paper in sorted({lp.paper for lp in labelled})}
    held_out = [Judged(lp.paper, len(lp.plan), len(lp.truth), lp.matches, judged[chosen[lp.paper]][k])
                for k, lp in enumerate(labelled)]
    return held_out, chosen


def versus(reference: list[LabelledPlan], other: list[LabelledPlan]) -> list[Judged]:
    """A second labelling judged against the first on the plans both labelled (the ceiling)."""
    first = {lp.id: lp for lp in reference}
    return [Judged(lp.paper, len(lp.plan), len(lp.truth), first[lp.id].matches, lp.matches)
            for lp in other if lp.id in first]
