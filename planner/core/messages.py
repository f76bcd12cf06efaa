"""The request planner sends and the reply it gets back, in no provider's wire format.

The core builds `Request`s and reads `Reply`s; each provider adapter turns a request
into its wire body and its answer body back into a reply. `OutputMode` says how a
model is made to answer in our schema, strongest first.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import Enum
from typing import Any


class OutputMode(str, Enum):
    """How a model is made to answer in our schema, strongest first."""

    JSON_SCHEMA = "json_schema"  # OpenAI strict structured output
    JSON_OBJECT = "json_object"  # JSON mode with the schema attached (llama.cpp enforces it by grammar)
    TOOL = "tool"  # Anthropic: a forced tool whose input schema is ours
    TAGGED = "tagged"  # the published planner's text format, parsed leniently


@dataclass(frozen=True)
class Request:
    model_id: str
    system: str
    messages: tuple[tuple[str, str], ...]  # (role, text) turns: user first, then assistant/user pairs
    schema: dict[str, Any]
    mode: OutputMode
    max_tokens: int = 4096
    temperature: float | None = None
    reasoning_effort: str | None = None
    seed: int | None = None
    tool_name: str = "submit_ablation_plan"  # the forced tool, or the json_schema name

    def chat(self) -> list[dict[str, str]]:
        return [{"role": role, "content": text} for role, text in self.messages]

    def identity(self) -> dict[str, Any]:
        """Everything that decides the answer; the cache key and batch ids are hashes of it."""
        data = asdict(self)
        data["mode"] = self.mode.value
        data["messages"] = [list(m) for m in self.messages]
        return data


# How an answer ended, in no provider's words. The last four end a conversation at once: a repair turn
# cannot change a refusal, a content filter, an output budget spent before any answer, or a request
# that does not fit the model's context.
END, TRUNCATED, REFUSED, FILTERED, BUDGET, CONTEXT = "end", "truncated", "refused", "filtered", "budget", "context"
FINAL_STOPS = (REFUSED, FILTERED, BUDGET, CONTEXT)


@dataclass(frozen=True)
class Usage:
    """What one answer consumed. `input_tokens` counts every input token, cached ones included;
    `cache_read_tokens` and `cache_write_tokens` are parts of it billed at their own rates;
    `reasoning_tokens` are part of `output_tokens`. `known` is False when the answer carried no usage."""

    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    reasoning_tokens: int = 0
    known: bool = True


@dataclass
class Reply:
    text: str  # the raw answer (JSON, tagged text, or the tool input as JSON)
    data: dict[str, Any] | None = None  # the structured object when the provider gave one
    input_tokens: int = 0  # all input tokens, cached ones included (see Usage)
    output_tokens: int = 0  # all output tokens, reasoning included
    truncated: bool = False  # cut off at the output limit (stop is TRUNCATED or BUDGET)
    mode: str = OutputMode.JSON_SCHEMA.value  # the mode that produced this reply
    meta: dict[str, Any] = field(default_factory=dict)  # finish reason, batch id, created time, latency
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    reasoning_tokens: int = 0
    usage_known: bool = True  # False: the answer carried no usage, so its cost is unknown
    stop: str = END  # how the answer ended (END ... CONTEXT above)
    stop_detail: str = ""  # the provider's own words for a final stop (a refusal's text, a reason)
    alternatives: list[dict[str, Any]] = field(default_factory=list)  # further structured objects it held

    def usage(self) -> Usage:
        return Usage(self.input_tokens, self.output_tokens, self.cache_read_tokens, self.cache_write_tokens,
                     self.reasoning_tokens, self.usage_known)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
