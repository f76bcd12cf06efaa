"""What a provider's batch engine gives the batch driver, and how its failures are sorted.

An engine (planner.providers.openai_batch, planner.providers.anthropic_batch) turns a
shard of requests into one provider batch and back: `entry` is the line a request
becomes, `submit` creates the batch (saving each id the moment it exists), `poll`
reports its status, `results` yields one `LineResult` per answered or failed line,
keyed by custom_id, `cancel` stops it, and `adopt` finds a batch that was created but
whose id a kill prevented us from saving.

A failed line is transient (expired, cancelled, rate-limited, server error: it goes
into the next round) or permanent (an invalid request: the job fails and is recorded).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from planner.errors import WorkError
from planner.manifest import Shard
from planner.providers.base import PermanentError, Reply, Request, TransientError, classify
from planner.registry import ModelSpec


@dataclass(frozen=True)
class LineError:
    kind: str  # transient | permanent
    message: str

    def as_error(self) -> WorkError:
        return TransientError(self.message) if self.kind == "transient" else PermanentError(self.message)


def line_error(kind: str, message: str) -> LineError:
    return LineError(kind, message[:300])


def status_line_error(status: int, message: str, where: str) -> LineError:
    """A failed line's HTTP status sorted the way a synchronous call's would be."""
    error = classify(status, message, None, where)
    return line_error("transient" if isinstance(error, TransientError) else "permanent", str(error))


def status_error(exc: Any, what: str) -> WorkError:
    """An SDK status error from a batch call (upload, create) as one of our errors."""
    from planner.providers.http import retry_after_seconds
    from planner.providers.sdk import status_message

    return classify(exc.status_code, status_message(exc), retry_after_seconds(exc.response.headers), what)


@dataclass(frozen=True)
class LineResult:
    custom_id: str | None
    body: Any  # the provider's answer object (chat.completion or Message) when the line succeeded
    error: LineError | None


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

    def adopt(self, shard: Shard) -> str | None: ...

    def poll(self, shard: Shard) -> Poll: ...

    def results(self, shard: Shard, files: list[str]) -> Iterator[LineResult]: ...

    def cancel(self, shard: Shard) -> None: ...

    def reply(self, body: Any, mode: str, tool: str, where: str) -> Reply: ...
