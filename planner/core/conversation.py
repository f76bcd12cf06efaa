"""The planning core: a step function that decides a job's next move, owning no loop and no I/O.

From a job's state and the latest reply, `Conversation` decides: the next request
(first turn, repair turn, or the first turn again in a weaker output mode after the
endpoint refused one), the final result, or a failure with its errors. Planner and
judge are two uses of it with their own `Task` (how to ask, how to validate, how to
ask for a repair). Two drivers run it: the synchronous one asks each request as it
comes (planner.run.sync), the batch one asks every job's next request in one
provider batch per round (planner.run.batching.driver).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

from planner.core.messages import (
    BUDGET,
    CONTEXT,
    FILTERED,
    FINAL_STOPS,
    REFUSED,
    OutputMode,
    Reply,
    Request,
    Usage,
)

T = TypeVar("T")


@dataclass(frozen=True)
class Verdict(Generic[T]):
    """What a task makes of a reply: a value when it is valid, else the errors to quote back."""

    value: T | None
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


class Task(Protocol[T]):
    """One use of the core: what to ask and how to judge the answer."""

    max_repairs: int

    def system(self, mode: OutputMode) -> str: ...

    def first_message(self, mode: OutputMode) -> str: ...

    def schema(self, mode: OutputMode) -> dict[str, Any]: ...

    def validate(self, reply: Reply) -> Verdict[T]: ...

    def repair_message(self, errors: list[str], mode: OutputMode) -> str: ...


@dataclass(frozen=True)
class Params:
    """The request parameters that do not change between turns."""

    model_id: str
    max_tokens: int
    temperature: float | None = None
    reasoning_effort: str | None = None
    seed: int | None = None
    tool_name: str = "submit_ablation_plan"


@dataclass(frozen=True)
class Ask:
    request: Request


@dataclass(frozen=True)
class Done(Generic[T]):
    value: T
    warnings: list[str]


@dataclass(frozen=True)
class Failed:
    """Why a conversation ended without a result. `kind` says whose doing it was: "invalid" (answers
    broke the rules through every repair turn), "final" (an answer that ends it at once: a refusal, a
    content filter, a spent budget, a context overflow) or "provider" (the request itself failed)."""

    errors: list[str]
    kind: str = "invalid"


Decision = Ask | Done[Any] | Failed


@dataclass
class Tally:
    """What the answers of one conversation cost; `spent_*` counts only answers bought on this run."""

    input_tokens: int = 0
    output_tokens: int = 0
    spent_input: int = 0
    spent_output: int = 0
    attempts: int = 0
    latency: float = 0.0
    replies: int = 0
    cached_replies: int = 0
    batch_ids: list[str] = field(default_factory=list)
    discounted: bool = False  # answered by a batch engine that bills at the batch discount
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    reasoning_tokens: int = 0
    usages: list[tuple[Usage, bool, bool]] = field(default_factory=list)  # per answer: usage, batch, bought now

    @property
    def usage_known(self) -> bool:
        """False once an answer carried no usage: the conversation's cost cannot be known."""
        return all(usage.known for usage, _, _ in self.usages)

    def add(self, reply: Reply, cached: bool) -> None:
        """Count one answer; prices are applied per answer later, since a tier depends on its own size."""
        self.usages.append((reply.usage(), bool(reply.meta.get("batch_discount")), not cached))
        self.cache_read_tokens += reply.cache_read_tokens
        self.cache_write_tokens += reply.cache_write_tokens
        self.reasoning_tokens += reply.reasoning_tokens
        self.replies += 1
        self.input_tokens += reply.input_tokens
        self.output_tokens += reply.output_tokens
        self.latency += float(reply.meta.get("latency_s") or 0.0)
        batch = reply.meta.get("batch_id")
        if batch and batch not in self.batch_ids:
            self.batch_ids.append(batch)
        self.discounted = self.discounted or bool(reply.meta.get("batch_discount"))
        if cached:
            self.cached_replies += 1
        else:
            self.spent_input += reply.input_tokens
            self.spent_output += reply.output_tokens
            self.attempts += int(reply.meta.get("attempts") or 1)


@dataclass
class Conversation(Generic[T]):
    task: Task[T]
    params: Params
    mode: OutputMode
    turns: list[tuple[str, str]] = field(default_factory=list)  # assistant/user pairs after the first message
    repairs: int = 0
    errors: list[str] = field(default_factory=list)
    tally: Tally = field(default_factory=Tally)
    notes: list[str] = field(default_factory=list)  # what happened on the way (format fallbacks)
    fallbacks: tuple[OutputMode, ...] = ()  # weaker modes to try, in order, when the endpoint refuses one
    first: Request = field(init=False)  # the opening request: what the job is, whatever repairs or fallbacks follow

    def __post_init__(self) -> None:
        self.first = self.request()

    def request(self) -> Request:
        """The request for the current state: the first message, then every repair exchange so far."""
        p = self.params
        return Request(
            model_id=p.model_id, system=self.task.system(self.mode),
            messages=(("user", self.task.first_message(self.mode)), *self.turns),
            schema=self.task.schema(self.mode), mode=self.mode, max_tokens=p.max_tokens,
            temperature=p.temperature, reasoning_effort=p.reasoning_effort, seed=p.seed, tool_name=p.tool_name,
        )

    def start(self) -> Decision:
        return Ask(self.first)

    def on_reply(self, reply: Reply, cached: bool = False) -> Decision:
        """Step with an answer: accept it, ask for a repair, or give up after the last repair turn."""
        self.tally.add(reply, cached)
        if reply.stop in FINAL_STOPS:
            self.errors = [final_reason(reply, self.params.max_tokens)]
            return Failed(self.errors, "final")
        verdict = self.task.validate(reply)
        if verdict.value is not None and not verdict.errors:
            return Done(verdict.value, verdict.warnings)
        self.errors = verdict.errors or ["the answer could not be used"]
        if self.repairs >= self.task.max_repairs:
            return Failed(self.errors)
        self.repairs += 1
        self.turns += [("assistant", reply.text or "(empty answer)"),
                       ("user", self.task.repair_message(self.errors, self.mode))]
        return Ask(self.request())

    def on_refused(self, message: str) -> Decision:
        """Step after the endpoint refused the output mode: the first turn again in the next mode."""
        if not self.fallbacks:
            self.errors = [message]
            return Failed(self.errors, "provider")
        weaker, self.fallbacks = self.fallbacks[0], self.fallbacks[1:]
        self.notes.append(f"the endpoint refused {self.mode.value} output; trying {weaker.value}")
        self.mode, self.turns, self.repairs = weaker, [], 0
        return Ask(self.request())


def final_reason(reply: Reply, max_tokens: int) -> str:
    """One line for an answer that ends its conversation at once: what happened and what to do."""
    detail = " ".join(reply.stop_detail.split())[:300]
    if reply.stop == REFUSED:
        return (f"the model refused: {detail!r}" if detail else "the model refused to answer") + \
            "; a refusal is final, so no repair turn was sent"
    if reply.stop == FILTERED:
        return (f"the provider's content filter stopped the answer ({detail or 'content_filter'}); "
                "no repair turn was sent")
    if reply.stop == BUDGET:
        spent = f" ({reply.reasoning_tokens:,} of them on reasoning)" if reply.reasoning_tokens else ""
        return (f"the model used its whole output budget of {max_tokens:,} tokens{spent} before answering; "
                "raise --max-tokens (reasoning models need tens of thousands)")
    if reply.stop == CONTEXT:
        return (f"the request does not fit the model's context window ({detail or 'context window exceeded'}); "
                "give a shorter paper, or state the model's real window with --context-window")
    raise ValueError(f"not a final stop: {reply.stop}")
