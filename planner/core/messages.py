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

    def fallback(self) -> OutputMode | None:
        """What to try when an endpoint refuses this mode (only JSON modes have a weaker one)."""
        return {OutputMode.JSON_SCHEMA: OutputMode.JSON_OBJECT, OutputMode.JSON_OBJECT: OutputMode.TAGGED}.get(self)


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


@dataclass
class Reply:
    text: str  # the raw answer (JSON, tagged text, or the tool input as JSON)
    data: dict[str, Any] | None = None  # the structured object when the provider gave one
    input_tokens: int = 0
    output_tokens: int = 0
    truncated: bool = False
    mode: str = OutputMode.JSON_SCHEMA.value  # the mode that produced this reply
    meta: dict[str, Any] = field(default_factory=dict)  # finish reason, batch id, created time, latency

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
