"""What every provider adapter is, and the kinds of failure it may raise.

An adapter takes a `planner.core.messages.Request` and gives back a `Reply`. It is pure both ways: `wire_body(spec, request)` is the exact JSON a request
becomes (what --dry-run shows, what a batch line carries) and `reply_from_body(body,
request)` turns the provider's answer JSON back into a `Reply`, whether it came from a
synchronous call or from a batch result file. Retrying, caching, parsing and repair
happen above the adapters.
"""

from __future__ import annotations

from typing import Protocol

from planner.core.messages import Reply, Request
from planner.errors import WorkError
from planner.secrets import redact


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
