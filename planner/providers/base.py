"""What every provider adapter takes and gives back, and the kinds of failure it may raise.

An adapter is pure both ways: `wire_body(spec, request)` is the exact JSON a request
becomes (what --dry-run shows, what a batch line carries) and `reply_from_body(body,
request)` turns the provider's answer JSON back into a `Reply`, whether it came from a
synchronous call or from a batch result file. Retrying, caching, parsing and repair
happen above the adapters.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import Enum
from typing import Any, Protocol

from planner.errors import WorkError
from planner.secrets import redact


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


class Provider(Protocol):
    name: str
    endpoint: str  # the base URL actually used, without credentials

    def complete(self, request: Request) -> Reply: ...


class TransientError(WorkError):
    """Worth retrying: rate limits, server errors, timeouts, dropped connections, garbled answers."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(redact(message))
        self.retry_after = retry_after


class PermanentError(WorkError):
    """Retrying cannot help: bad request, bad key, no such model, a hostile answer."""

    def __init__(self, message: str) -> None:
        super().__init__(redact(message))


class StructuredOutputUnsupported(PermanentError):
    """The endpoint refused this response format; the conversation falls back to the next mode."""


class BadResponse(TransientError):
    """An HTTP 200 whose body is not the provider's answer format (empty, HTML, not JSON, no choices)."""


_HINTS = {
    400: "the request was refused; check the model name and options",
    401: "the API key was refused; check the key in the environment",
    403: "the key may not use this model",
    404: "no such model or endpoint; check the model name and base URL",
    413: "the request is too large for this endpoint",
}


def classify(status: int | None, message: str, retry_after: float | None, what: str,
             retired: str | None = None) -> WorkError:
    """Map an HTTP outcome to our error kinds with a one-line message that says what to do.

    `retired` explains a 404 for a model its provider has retired (planner.registry)."""
    message = " ".join(redact(message).split())[:300]
    if status == 404 and retired:
        return PermanentError(f"{what}: HTTP 404: {retired}")
    if status is None:
        return TransientError(f"{what}: {message}")
    if status in (408, 409, 429) or status >= 500:
        return TransientError(f"{what}: HTTP {status}: {message}", retry_after)
    if 300 <= status < 400:
        return PermanentError(f"{what}: HTTP {status}: the server redirected the request ({message}); planner does "
                              "not follow redirects, so the paper is never re-sent elsewhere: use the final address "
                              "as the base URL")
    return PermanentError(f"{what}: HTTP {status}: {message} ({_HINTS.get(status, 'not retried')})")
