"""The data model: ablations, plans and trajectories, and where each trajectory came from.

The models are deliberately lenient (any string for an action, empty lists allowed)
because imported cards must be kept exactly as they were written. The strict rules
that every plan *we* make must meet live in planner.rules.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

ACTIONS = ("REMOVE", "REPLACE", "ADD")
Task = Literal["author", "reviewer"]
DEFAULT_COUNTS: dict[str, int] = {"author": 5, "reviewer": 2}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Ablation(_Model):
    """One proposed experiment: what is ablated, how, and what is measured."""

    name: str
    ablated_part: str
    action: str
    replacement: list[str] = Field(default_factory=list)
    metrics: list[str] = Field(default_factory=list)


class Plan(_Model):
    """The model's free-text reasoning and its ablations, most important first."""

    reasoning: str
    ablations: list[Ablation]


class Provenance(_Model):
    """Where a trajectory came from; every field is optional because imported cards carry none.

    Tokens and cost are those of the answers the plan rests on; `cached` says they were
    served from the response cache (nothing was spent on this run), `via` how they were
    asked for, `batch_ids` the provider batches that answered, and `sync_cost_usd` what
    the same answers cost without the batch discount.
    """

    provider: str | None = None
    model_id: str | None = None
    endpoint: str | None = None
    created: str | None = None
    input_tokens: int | None = None  # all input tokens, cached ones included
    output_tokens: int | None = None  # all output tokens, reasoning included
    cache_read_tokens: int | None = None  # input tokens read from the provider's prompt cache
    cache_write_tokens: int | None = None  # input tokens written to it
    reasoning_tokens: int | None = None  # output tokens spent on reasoning
    cost_usd: float | None = None  # None: unknown (no usage in an answer, or no price for the model)
    sync_cost_usd: float | None = None
    latency_s: float | None = None
    attempts: int | None = None
    repairs: int | None = None
    cached: bool = False
    via: str | None = None
    batch_ids: list[str] = Field(default_factory=list)
    prompt_sha256: str | None = None
    request_sha256: str | None = None
    paper_origin: str | None = None  # "library", or "file" for a user's paper (never scored against the library)
    paper_sha256: str | None = None
    source: str | None = None
    card_layout: str | None = None  # how an imported card deviated from the standard layout
    warnings: list[str] = Field(default_factory=list)


class Trajectory(_Model):
    """A plan together with who made it for which paper and task."""

    planner: str = "lm-planner"
    model: str
    slug: str
    paper: str
    task: Task
    plan: Plan
    provenance: Provenance = Field(default_factory=Provenance)

    def to_json(self) -> str:
        return self.model_dump_json(indent=2) + "\n"
