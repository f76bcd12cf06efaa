"""Judges decide which planned ablations match which ground-truth ablations.

- The offline judge: deterministic fuzzy matching of component, action and
  replacements; no network, no key (planner.eval.offline).
- An LM judge is a use of the planning core (planner.core.conversation): both lists are
  shuffled and the sides assigned at random, so the model cannot tell the plan from
  the paper; its answer must be one JSON object whose pairs point into the lists,
  or it gets repair turns and then a recorded failure, never a silent zero.
- Several judges vote: a pair counts when more than half of them match it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from planner.core import rules
from planner.core.conversation import Conversation, Params, Verdict
from planner.core.messages import OutputMode, Reply
from planner.core.parse import reply_object
from planner.core.prompts import render
from planner.core.schema import Ablation
from planner.eval.offline import Match
from planner.registry import ModelSpec

JUDGE_MAX_TOKENS = 2048


class _Pair(BaseModel):
    # strict: item numbers are JSON integers only; `true`, `"1"` and `1.0` are not numbers a judge may point with
    model_config = ConfigDict(extra="forbid", strict=True)
    a: int = Field(description="the number of an item in list A")
    b: int = Field(description="the number of an item in list B")


class JudgeAnswer(BaseModel):
    """A judge's answer: its short reasoning, then every matching pair."""

    model_config = ConfigDict(extra="forbid")
    reasoning: str = Field(description="a short justification")
    matches: list[_Pair] = Field(description="every pair of items that describe the same experiment")


JUDGE_SCHEMA = rules.model_schema(JudgeAnswer)


def _public(ab: Ablation) -> dict[str, Any]:
    return {"name": ab.name, "ablated_part": ab.ablated_part, "action": ab.action,
            "replacement": ab.replacement, "metrics": ab.metrics}


@dataclass
class Sides:
    """How one paper's lists were shuffled and placed, to map the judge's numbers back."""

    plan_order: list[int]
    truth_order: list[int]
    plan_is_a: bool

    @classmethod
    def draw(cls, seed: str, plan_size: int, truth_size: int) -> Sides:
        rng = random.Random(seed)  # deterministic, so the cache answers reruns
        return cls(rng.sample(range(plan_size), plan_size), rng.sample(range(truth_size), truth_size),
                   rng.random() < 0.5)

    def lists(self, plan: list[Ablation], truth: list[Ablation]) -> tuple[list[Ablation], list[Ablation]]:
        shown = ([plan[i] for i in self.plan_order], [truth[j] for j in self.truth_order])
        return shown if self.plan_is_a else (shown[1], shown[0])

    def back(self, pairs: list[tuple[int, int]]) -> Match:
        """Pairs in list numbers (0-based) as (plan index, truth index)."""
        matches: Match = set()
        for a, b in pairs:
            p, t = (a, b) if self.plan_is_a else (b, a)
            matches.add((self.plan_order[p], self.truth_order[t]))
        return matches


class JudgeTask:
    """Ask one model which items of two lists match; accept only pairs that point into the lists."""

    def __init__(self, paper: str, set_a: list[Ablation], set_b: list[Ablation], prompts: Path | None,
                 max_repairs: int) -> None:
        self.paper, self.set_a, self.set_b, self.prompts = paper, set_a, set_b, prompts
        self.max_repairs = max_repairs

    def _variables(self, mode: OutputMode) -> dict[str, Any]:
        return {"paper_id": self.paper, "set_a": [_public(x) for x in self.set_a],
                "set_b": [_public(x) for x in self.set_b], "structured": mode.value}

    def system(self, mode: OutputMode) -> str:
        return render("judge_system", self.prompts, **self._variables(mode))

    def first_message(self, mode: OutputMode) -> str:
        return render("judge", self.prompts, **self._variables(mode))

    def schema(self, mode: OutputMode) -> dict[str, Any]:
        return JUDGE_SCHEMA

    def validate(self, reply: Reply) -> Verdict[list[tuple[int, int]]]:
        try:
            answer = JudgeAnswer.model_validate(reply_object(reply))
        except ValidationError as exc:  # JSON of the wrong shape
            return Verdict(None, [_shape_error(e) for e in exc.errors()])
        except ValueError as exc:  # not JSON at all
            return Verdict(None, [str(exc)])
        errors = [f"matches[{i}]: {side} is {n}, but list {side.upper()} has items 1 to {size}"
                  for i, pair in enumerate(answer.matches, 1)
                  for side, n, size in (("a", pair.a, len(self.set_a)), ("b", pair.b, len(self.set_b)))
                  if not 1 <= n <= size]
        if errors:
            return Verdict(None, errors)
        return Verdict(sorted({(p.a - 1, p.b - 1) for p in answer.matches}))

    def repair_message(self, errors: list[str], mode: OutputMode) -> str:
        return render("judge_repair", self.prompts, errors=errors, structured=mode.value)


def _shape_error(err: Any) -> str:
    where = ".".join(str(p) for p in err["loc"])
    if not where:
        return 'the answer must be one JSON object: {"reasoning": "...", "matches": [{"a": 1, "b": 2}]}'
    return f"{where}: {err['msg'].lower()}"


def judge_conversation(spec: ModelSpec, paper: str, plan: list[Ablation], truth: list[Ablation],
                       prompts: Path | None = None, max_repairs: int = 2,
                       seed: int = 0) -> tuple[Conversation[list[tuple[int, int]]], Sides]:
    """The conversation asking `spec` to match `plan` against `truth`, and how to read its numbers back."""
    sides = Sides.draw(f"{seed}:{paper}", len(plan), len(truth))
    set_a, set_b = sides.lists(plan, truth)
    params = Params(model_id=spec.api_id, max_tokens=spec.max_output if spec.reasons else JUDGE_MAX_TOKENS,
                    temperature=0.0 if spec.takes_temperature else None,
                    reasoning_effort=spec.reasoning_effort, tool_name="submit_matches")
    task = JudgeTask(paper, set_a, set_b, prompts, max_repairs)
    return Conversation(task, params, spec.mode, fallbacks=spec.fallbacks), sides


def majority(votes: list[Match]) -> Match:
    """The pairs more than half of the judges matched."""
    counts: dict[tuple[int, int], int] = {}
    for matches in votes:
        for pair in matches:
            counts[pair] = counts.get(pair, 0) + 1
    return {pair for pair, n in counts.items() if n > len(votes) / 2}
