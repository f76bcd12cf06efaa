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

from planner.core.messages import OutputMode, Reply, Request

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
    errors: list[str]


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

    def add(self, reply: Reply, cached: bool) -> None:
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
        weaker = self.mode.fallback()
        if weaker is None:
            self.errors = [message]
            return Failed(self.errors)
        self.notes.append(f"the endpoint refused {self.mode.value} output; trying {weaker.value}")
        self.mode, self.turns, self.repairs = weaker, [], 0
        return Ask(self.request())
