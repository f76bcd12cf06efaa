"""Evaluation: which stored plans to score, the judges that match them, and their scores.

Author plans are scored against the ablations their paper reports (planner.eval.metrics).
Reviewer plans ask for ablations the paper is *missing*, so scoring them against the
reported ones would reward repeating the paper; without reviewer data (the ablations
reviewers asked for) we report what can be known offline: the share of suggestions
that duplicate a reported ablation (lower is better).

The offline judge runs in-process. LM judges are conversations (planner.eval.judges) run
by the caller's driver, synchronous or through the providers' batch engines.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from planner.core.conversation import Conversation, Done
from planner.core.schema import Ablation, Trajectory
from planner.errors import UsageError
from planner.eval.judges import Sides, judge_conversation, majority
from planner.eval.metrics import ReviewScore, Score, review_score, score
from planner.eval.offline import Match, offline_match
from planner.papers.ground_truth import reported_ablations
from planner.registry import ModelSpec, display_name, model_slug

OFFLINE = "offline"


def select(trajectories: list[Trajectory], papers: list[str] | None, models: list[str] | None,
           task: str) -> list[Trajectory]:
    """The trajectories to score: the task's, filtered by paper ids and model names (either form)."""
    wanted = {model_slug(m) for m in models} if models else None
    return [t for t in trajectories
            if t.task == task and (papers is None or t.paper in papers) and (wanted is None or t.slug in wanted)]


@dataclass
class Target:
    """One plan to score, with its paper's reported ablations."""

    trajectory: Trajectory
    truth: list[Ablation]


def targets(trajectories: list[Trajectory],
            given: dict[str, list[Ablation]] | None = None) -> tuple[list[Target], list[str]]:
    """The plans that can be scored, and a line for each one that cannot and why.

    Without `given` the library's ground truth scores library papers only (a user's paper
    may share a library paper's name, never its ablations); with `given` (ground truth the
    user supplies, paper id -> ablations) every plan of a paper in it is scored."""
    found, skipped = [], []
    for t in trajectories:
        name = f"{display_name(t.model)} on {t.paper}"
        if given is not None:
            truth = given.get(t.paper)
            if truth is None:
                skipped.append(f"{name}: the given ground truth has no {t.paper}.json with ablations")
                continue
        elif t.provenance.paper_origin not in (None, "library"):
            skipped.append(f"{name}: a paper from a file, not the library; give its ground truth with --ground-truth")
            continue
        else:
            truth = reported_ablations(t.paper)
            if truth is None:
                skipped.append(f"{name}: no ground truth for this paper")
                continue
        found.append(Target(t, truth))
    return found, skipped


@dataclass
class JudgeWork:
    """One LM judge's conversation about one target."""

    target: int
    judge: ModelSpec
    conv: Conversation[list[tuple[int, int]]]
    sides: Sides
    label: str


def judge_work(found: list[Target], judges: list[ModelSpec], prompts: Path | None,
               max_repairs: int) -> list[JudgeWork]:
    work = []
    for i, target in enumerate(found):
        t = target.trajectory
        for spec in judges:
            conv, sides = judge_conversation(spec, t.paper, t.plan.ablations, target.truth, prompts, max_repairs)
            work.append(JudgeWork(i, spec, conv, sides, f"judge {spec.name} on {display_name(t.model)}/{t.paper}"))
    return work


@dataclass
class Verdicts:
    """Every judge's matches per target; a target with a failed judge is not scored."""

    size: int
    by_judge: dict[str, dict[int, Match]] = field(default_factory=dict)
    failed: dict[int, list[str]] = field(default_factory=dict)

    def add(self, judge: str, target: int, matches: Match) -> None:
        self.by_judge.setdefault(judge, {})[target] = matches

    def fail(self, target: int, reason: str) -> None:
        self.failed.setdefault(target, []).append(reason)

    def combined(self, target: int) -> Match | None:
        if target in self.failed:
            return None
        votes = [per[target] for per in self.by_judge.values()]
        return votes[0] if len(votes) == 1 else majority(votes)


def judge_all(found: list[Target], judge_names: list[str], judges: list[ModelSpec], work: list[JudgeWork],
              run: Callable[[list[JudgeWork]], list[Any]]) -> Verdicts:
    """Matches from every judge: the offline one here, LM judges through `run` (one outcome per work item:
    Done with 0-based list pairs, or a failure reason)."""
    verdicts = Verdicts(len(found))
    if OFFLINE in judge_names:
        for i, target in enumerate(found):
            t = target.trajectory
            library_paper = t.paper if t.provenance.paper_origin in (None, "library") else None
            verdicts.add(OFFLINE, i, offline_match(t.plan.ablations, target.truth, library_paper))
    for item, outcome in zip(work, run(work) if work else []):
        if isinstance(outcome, Done):
            verdicts.add(item.judge.name, item.target, item.sides.back(outcome.value))
        else:
            verdicts.fail(item.target, f"{item.label}: {outcome}")
    return verdicts


def scores(found: list[Target], verdicts: Verdicts, task: str, top_k: int | None) -> list[Score] | list[ReviewScore]:
    if top_k is not None and top_k < 1:
        raise UsageError(f"--top-k must be at least 1, got {top_k}")
    result: list[Any] = []
    for i, target in enumerate(found):
        matches = verdicts.combined(i)
        if matches is None:
            continue
        if task == "reviewer":
            result.append(review_score(target.trajectory, target.truth, matches))
        else:
            result.append(score(target.trajectory, target.truth, matches, top_k))
    return result
