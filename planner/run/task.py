"""The planner as a use of the core: how to ask a model for a plan, and how to judge its answer.

A plan either meets every rule in planner.core.rules (exact count, valid actions,
replacements where they belong, metrics, unique single-line names, card-safe text) or
the job fails with the list of broken rules after at most `max_repairs` repair turns:
never a silently short card.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from planner.core import rules
from planner.core.conversation import Conversation, Done, Params, Tally, Verdict
from planner.core.messages import OutputMode, Reply
from planner.core.parse import parse_plan
from planner.core.prompts import render
from planner.core.schema import DEFAULT_COUNTS, Ablation, Plan, Provenance, Trajectory
from planner.errors import UsageError
from planner.papers.paper import Paper, fit_to_budget
from planner.prices import price
from planner.providers.retry import RetryPolicy
from planner.registry import ModelSpec, seed_support

log = logging.getLogger(__name__)
CHARS_PER_TOKEN = 3  # conservative: real English text runs nearer 4


@dataclass
class PlanOptions:
    task: str = "author"
    count: int | None = None
    temperature: float | None = None
    max_repairs: int = 2
    max_tokens: int | None = None  # None: the model's own default (reasoning models need far more)
    seed: int | None = None
    prompts: Path | None = None
    base_url: str | None = None
    timeout: float | None = None  # None: the model's own default
    retry: RetryPolicy = field(default_factory=RetryPolicy)

    def tokens(self, spec: ModelSpec) -> int:
        """The output budget of each request to `spec`."""
        return self.max_tokens if self.max_tokens is not None else spec.max_output

    def deadline(self, spec: ModelSpec) -> float:
        """The total time one request to `spec` may take, answer included."""
        return self.timeout if self.timeout is not None else spec.timeout

    @property
    def n(self) -> int:
        n = self.count if self.count is not None else DEFAULT_COUNTS[self.task]
        if not 1 <= n <= rules.MAX_ABLATIONS:
            raise UsageError(f"--num-ablations must be between 1 and {rules.MAX_ABLATIONS}, got {n}")
        return n


def temperature_for(spec: ModelSpec, requested: float | None) -> float | None:
    """The temperature to send: none to a model that rejects one (a warning says it was dropped)."""
    if requested is not None and not spec.takes_temperature:
        log.warning("%s takes no temperature (its provider rejects one for this model); --temperature ignored",
                    spec.name)
        return None
    return requested


def seed_for(spec: ModelSpec, requested: int | None) -> int | None:
    """The seed to send: best effort where the provider deprecates it, none where it has no seed."""
    support = seed_support(spec.provider)
    if requested is None or support == "yes":
        return requested
    if support == "no":
        log.warning("%s takes no seed (%s has none); --seed ignored", spec.name, spec.provider)
        return None
    log.warning("%s: %s marks seed as deprecated; it is sent, but reproducibility is best effort", spec.name,
                spec.provider)
    return requested


class PlanTask:
    """Ask for a plan of one paper; accept an answer only when it meets the rules."""

    def __init__(self, paper: Paper, spec: ModelSpec, opts: PlanOptions, reported: list[Ablation] | None) -> None:
        budget = (spec.window - opts.tokens(spec) - 2_000) * CHARS_PER_TOKEN
        self.paper = fit_to_budget(paper, max(budget, 2_000))
        self.opts = opts
        self.count = opts.n
        self.max_repairs = opts.max_repairs
        self.reported = reported

    def _variables(self, mode: OutputMode) -> dict[str, Any]:
        return {"paper": self.paper, "count": self.count, "task": self.opts.task, "structured": mode.value,
                "reported": self.reported}

    def system(self, mode: OutputMode) -> str:
        return render("system", self.opts.prompts, **self._variables(mode))

    def first_message(self, mode: OutputMode) -> str:
        return render(self.opts.task, self.opts.prompts, **self._variables(mode))

    def schema(self, mode: OutputMode) -> dict[str, Any]:
        return rules.schema(self.count)

    def validate(self, reply: Reply) -> Verdict[Plan]:
        plan, errors, warnings = parse_plan(reply, self.count)
        return Verdict(plan, errors, warnings)

    def repair_message(self, errors: list[str], mode: OutputMode) -> str:
        return render("repair", self.opts.prompts, errors=errors, count=self.count, structured=mode.value)


def reported_for(paper: Paper, task: str) -> list[Ablation] | None:
    """The ablations a library paper reports, shown to the reviewer task (never to the author task)."""
    if task != "reviewer" or paper.origin != "library":
        return None
    from planner.papers.ground_truth import reported_ablations

    return reported_ablations(paper.id) or []


def conversation(paper: Paper, spec: ModelSpec, opts: PlanOptions) -> Conversation[Plan]:
    params = Params(model_id=spec.api_id, max_tokens=opts.tokens(spec),
                    temperature=temperature_for(spec, opts.temperature), reasoning_effort=spec.reasoning_effort,
                    seed=seed_for(spec, opts.seed))
    return Conversation(PlanTask(paper, spec, opts, reported_for(paper, opts.task)), params, spec.mode,
                        fallbacks=spec.fallbacks)


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def fingerprint(conv: Conversation[Plan]) -> str:
    """What makes two jobs the same job: the whole opening request (paper, prompts, options, model), the same
    before the conversation starts and after any repair turns or output-mode fallbacks."""
    return sha256(json.dumps(conv.first.identity(), sort_keys=True, ensure_ascii=False))


def provenance(spec: ModelSpec, provider: str, endpoint: str, conv: Conversation[Any], via: str,
               paper: Paper) -> Provenance:
    """Where a plan (or a failed attempt) came from and what its answers cost."""
    tally: Tally = conv.tally
    first = conv.first
    return Provenance(
        provider=provider, model_id=spec.api_id, endpoint=endpoint,
        created=datetime.now(UTC).isoformat(timespec="seconds"),
        input_tokens=tally.input_tokens, output_tokens=tally.output_tokens,
        cache_read_tokens=tally.cache_read_tokens, cache_write_tokens=tally.cache_write_tokens,
        reasoning_tokens=tally.reasoning_tokens,
        cost_usd=cost(spec, tally), sync_cost_usd=cost(spec, tally, at_batch_price=False) if tally.discounted else None,
        latency_s=round(tally.latency, 3), attempts=tally.attempts, repairs=conv.repairs,
        cached=tally.replies > 0 and tally.cached_replies == tally.replies, via=via, batch_ids=list(tally.batch_ids),
        prompt_sha256=sha256(first.system + "\n" + first.messages[0][1]),
        request_sha256=fingerprint(conv), paper_origin=paper.origin, paper_sha256=sha256(paper.text),
        warnings=list(conv.notes),
    )


def cost(spec: ModelSpec, tally: Tally, bought_only: bool = False, at_batch_price: bool = True) -> float | None:
    """USD for the answers of a conversation, each priced with its own usage (tiers depend on one
    request's size); None when any answer's usage or the model's price is unknown. `bought_only` counts
    only answers bought on this run; `at_batch_price=False` gives what they cost without a batch."""
    total = 0.0
    for usage, batch, bought in tally.usages:
        if bought_only and not bought:
            continue
        one = price(spec.provider, spec.api_id, usage, batch=batch and at_batch_price)
        if one is None:
            return None
        total += one
    return total


def trajectory(spec: ModelSpec, paper: Paper, opts: PlanOptions, done: Done[Plan], prov: Provenance) -> Trajectory:
    prov = prov.model_copy(update={"warnings": [*prov.warnings, *done.warnings]})
    return Trajectory(model=spec.name, slug=spec.slug, paper=paper.id, task=opts.task,  # type: ignore[arg-type]
                      plan=done.value, provenance=prov)
