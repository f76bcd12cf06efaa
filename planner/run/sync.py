"""The synchronous driver: asks each request the moment a conversation produces it.

An answer comes from the response cache when the same request was asked before,
otherwise from the provider with retries under the request's deadline, and goes
into the cache the moment it arrives. A conversation that ends in failure has its
answers dropped from the cache, so the next run asks afresh instead of failing the
same way for free.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from planner.core.conversation import Ask, Conversation, Done, Failed
from planner.core.messages import Reply, Request
from planner.errors import WorkError
from planner.providers.base import Provider, StructuredOutputUnsupported
from planner.providers.retry import GaveUp, RetryPolicy, call_with_retries
from planner.run.batching.inflight import Guard, InFlight
from planner.run.cache import ResponseCache, request_key

log = logging.getLogger(__name__)


@dataclass
class Asker:
    """One provider behind the cache and the retry policy, for one job's label in log lines."""

    provider: Provider
    cache: ResponseCache
    retry: RetryPolicy
    label: str
    guard: Guard | None = None  # the batches of the manifest still buying answers
    keys: list[str] = field(default_factory=list)  # every answer this job rested on

    def answer(self, request: Request) -> tuple[Reply, bool]:
        """The answer to `request` and whether it came from the cache (an answer a batch bought for this run
        does not: it is counted as spent here)."""
        key = request_key(self.provider.name, self.provider.endpoint, request)
        cached = self.cache.get(key)
        if cached is None and self.guard is not None:
            cached = self.guard.answer(key)  # raises while a batch is still buying it
        if cached is not None:
            self.keys.append(key)
            return cached, self.guard is None or cached.meta.get("bought_by") != self.guard.run_id
        started = time.monotonic()
        reply, attempts = call_with_retries(lambda: self.provider.complete(request), self.retry, self.label)
        reply.meta.update(latency_s=round(time.monotonic() - started, 3), attempts=attempts, via="sync",
                          created=datetime.now(UTC).isoformat(timespec="seconds"))
        self.cache.put(key, reply)
        self.keys.append(key)
        return reply, False


def converse(conv: Conversation[Any], asker: Asker) -> Done[Any] | Failed:
    """Run one conversation to its end. Provider errors propagate (with the tally kept on `conv`)."""
    decision = conv.start()
    while isinstance(decision, Ask):
        try:
            reply, cached = asker.answer(decision.request)
        except StructuredOutputUnsupported as exc:
            decision = conv.on_refused(str(exc))
            if isinstance(decision, Ask):
                log.warning("%s: %s", asker.label, conv.notes[-1])
            continue
        except InFlight:  # nothing was sent
            raise
        except WorkError as exc:  # the tally of a failed job counts its attempts too
            conv.tally.attempts += exc.attempts if isinstance(exc, GaveUp) else 1
            raise
        decision = conv.on_reply(reply, cached)
    if isinstance(decision, Failed):
        asker.cache.forget(asker.keys)
    return decision
