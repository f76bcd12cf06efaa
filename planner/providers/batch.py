"""What a provider's batch engine gives the batch driver, and how its failures are sorted.

An engine (planner.providers.openai_batch, planner.providers.anthropic_batch) turns a
shard of requests into one provider batch and back: `entry` is the line a request
becomes, `submit` creates the batch (saving each id the moment it exists), `poll`
reports its status, `results` yields one `LineResult` per answered or failed line,
keyed by custom_id, `cancel` stops it, and `adopt` finds a batch that was created but
whose id a kill prevented us from saving (never one recorded for another shard, and
never a guess among several: `AmbiguousBatch`). SDK errors leave the engines sorted
like a synchronous call's (`sdk_errors`), so a batch the provider no longer knows is
told from a status check that failed for a moment.

A failed line is transient (expired, cancelled, rate-limited, server error: it goes
into the next round) or permanent (an invalid request: the job fails and is recorded).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, Protocol

from planner.core.messages import Reply, Request
from planner.errors import WorkError
from planner.providers.base import TransientError, classify
from planner.registry import ModelSpec


@dataclass
class Entry:
    """One request in a shard: its cache key, and what is needed to read its answer back."""

    key: str
    mode: str
    tool: str
    job: str  # a job's label, for messages


@dataclass
class Shard:
    id: str
    engine: str  # e.g. "openai|https://api.openai.com/v1"
    model: str
    entries: dict[str, Entry]  # custom_id -> entry
    state: str = "prepared"  # prepared | uploaded | creating | submitted | cancelled | collected
    file_id: str | None = None
    batch_id: str | None = None
    created_at: float = field(default_factory=time.time)
    creating_since: float | None = None
    status: str = ""
    counts: dict[str, int] = field(default_factory=dict)
    error: str | None = None
    path: str | None = None  # the input file (batch-file mode: the emitted file)
    adopted: str | None = None  # how a batch whose id a kill lost was recognised ("exact", "time and size", "--adopt")


@dataclass(frozen=True)
class LineError:
    kind: str  # transient | permanent
    message: str


def line_error(kind: str, message: str) -> LineError:
    return LineError(kind, message[:600])


def status_line_error(status: int, message: str, where: str, retired: str | None = None) -> LineError:
    """A failed line's HTTP status sorted the way a synchronous call's would be (a 404 for a retired
    model says so, as on the synchronous path)."""
    error = classify(status, message, None, where, retired)
    return line_error("transient" if isinstance(error, TransientError) else "permanent", str(error))


@contextmanager
def sdk_errors(sdk: ModuleType, what: str) -> Iterator[None]:
    """SDK errors of a batch call (upload, create) as ours: a status error classified like a synchronous
    call's; a timeout or dropped connection transient (the rerun resumes from the manifest)."""
    from planner.providers.sdk import status_error

    try:
        yield
    except sdk.APIStatusError as exc:
        error = status_error(exc, what)
        error.status = exc.status_code  # type: ignore[attr-defined]  # a 404 (batch unknown) is told from a 401
        raise error from None
    except sdk.APIError as exc:
        raise TransientError(f"{what}: {exc}") from None


class AmbiguousBatch(WorkError):
    """Several batches could be the one created for a shard before a kill saved its id: never guess."""

    def __init__(self, candidates: list[tuple[str, float]]) -> None:
        super().__init__(", ".join(batch_id for batch_id, _ in candidates))
        self.candidates = candidates  # (batch id, when it was created in epoch seconds)


@dataclass(frozen=True)
class LineResult:
    custom_id: str | None
    body: Any  # the provider's answer object (chat.completion or Message) when the line succeeded
    error: LineError | None


def json_line(raw: str, where: str) -> dict[str, Any] | LineError:
    """One result line as a JSON object, or the (transient) error a garbled line is: one lost answer,
    never a lost batch."""
    from planner.providers.http import parse_body

    try:
        obj = parse_body(raw.encode("utf-8"), where)
    except WorkError as exc:
        return line_error("transient", str(exc))
    return obj if isinstance(obj, dict) else line_error("transient", f"{where}: not a result line")


def openai_line(raw: str, where: str, retired: str | None = None) -> LineResult:
    """A line of OpenAI's batch output or error file (vLLM's run-batch writes the same format).

    A line's `error.code` is a free string in OpenAI's contract: only an invalid request fails its job at
    once; any other code (expired, cancelled, timeouts, server errors, rate limits, codes not seen
    before) is a transient failure, and the request goes out again within the tries limit."""
    obj = json_line(raw, where)
    if isinstance(obj, LineError):
        return LineResult(None, None, obj)
    custom_id, response, error = obj.get("custom_id"), obj.get("response"), obj.get("error")
    if isinstance(response, dict) and response.get("status_code") == 200:
        return LineResult(custom_id, response.get("body"), None)
    if isinstance(response, dict) and isinstance(response.get("status_code"), int):
        body = response.get("body") if isinstance(response.get("body"), dict) else {}
        message = str(body["error"].get("message", "")) if isinstance(body.get("error"), dict) else ""
        return LineResult(custom_id, None, status_line_error(response["status_code"], message, where, retired))
    code = str(error.get("code") or "") if isinstance(error, dict) else ""
    message = str(error.get("message", "")) if isinstance(error, dict) else "no answer"
    kind = "permanent" if "invalid" in code.lower() else "transient"
    return LineResult(custom_id, None, line_error(kind, f"{where}: {code or 'error'}: {message}"))


@dataclass
class Poll:
    status: str
    ended: bool
    counts: dict[str, int] = field(default_factory=dict)
    error: str | None = None  # why a whole batch failed
    files: list[str] = field(default_factory=list)  # where its results are (engine-specific)


class Engine(Protocol):
    name: str  # provider|endpoint: which shards in the manifest belong to this engine
    provider: str  # the provider name in cache keys, as the synchronous adapter uses it
    endpoint: str
    max_requests: int
    max_bytes: int
    discount: bool

    def entry(self, custom_id: str, spec: ModelSpec, request: Request) -> dict[str, Any]: ...

    def submit(self, shard: Shard, entries: list[dict[str, Any]], save: Callable[[], None]) -> None: ...

    def adopt(self, shard: Shard, taken: set[str]) -> str | None: ...

    def poll(self, shard: Shard) -> Poll: ...

    def results(self, shard: Shard, files: list[str]) -> Iterator[LineResult]: ...

    def cancel(self, shard: Shard) -> None: ...

    def reply(self, body: Any, mode: str, tool: str, where: str) -> Reply: ...
