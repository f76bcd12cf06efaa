"""Anthropic's Message Batches as a batch engine: Messages requests sent inline, half price.

A shard becomes one batch (`messages.batches.create`) whose requests carry the same
params a synchronous call sends. Results stream from the batch's results_url as
JSONL in any order, matched by custom_id: succeeded lines carry a Message, the others
are errored (invalid requests fail the job; server errors go to the next round),
canceled or expired (next round).

Anthropic batches carry no metadata (`messages.batches.create` takes only the
requests), and a batch's requests can be read only once it has ended. So a batch
created in the instant before a kill saved its id is found among the batches created
since the shard's 'creating' mark with as many requests, leaving out every batch
recorded for another shard: an ended one is checked exactly (its results carry our
custom ids), an unfinished one is taken only when it is the only one that can be ours.
Several such candidates raise AmbiguousBatch, never a guess and never a new batch.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from planner.core.messages import OutputMode, Reply, Request
from planner.providers import anthropic_messages
from planner.providers.batch import (
    AmbiguousBatch,
    LineError,
    LineResult,
    Poll,
    Shard,
    json_line,
    line_error,
    sdk_errors,
)
from planner.providers.sdk import raw_bytes
from planner.registry import ModelSpec, retirement

LIST_LIMIT = 300  # batches looked at when adopting, newest first
SLACK = 5.0  # seconds between our clock and the provider's that a creation time may be off by
PERMANENT = {"invalid_request_error", "authentication_error", "permission_error", "not_found_error",
             "request_too_large", "billing_error"}


class AnthropicBatch:
    provider = "anthropic"
    max_requests = 100_000
    max_bytes = 250_000_000  # under the 256 MB limit
    discount = True

    def __init__(self, spec: ModelSpec, base_url: str | None, timeout: float) -> None:
        self._sync = anthropic_messages.AnthropicMessages(spec, base_url, timeout)  # same endpoint, key and client
        self.endpoint = self._sync.endpoint
        self.name = f"anthropic|{self.endpoint}"

    @property
    def client(self) -> Any:
        return self._sync.client  # built when the first request is sent, not before

    def entry(self, custom_id: str, spec: ModelSpec, request: Request) -> dict[str, Any]:
        return {"custom_id": custom_id, "params": anthropic_messages.wire_body(spec, request)}

    def submit(self, shard: Shard, entries: list[dict[str, Any]], save: Callable[[], None]) -> None:
        import anthropic

        shard.state, shard.creating_since = "creating", shard.creating_since or time.time()
        save()
        with sdk_errors(anthropic, "anthropic batch"):
            batch = self.client.messages.batches.create(requests=entries)
        shard.batch_id, shard.state = batch.id, "submitted"
        save()

    def adopt(self, shard: Shard, taken: set[str]) -> str | None:
        """The batch created for `shard` before a kill saved its id, None when none was created."""
        import anthropic

        if shard.creating_since is None:
            return None
        with sdk_errors(anthropic, "anthropic batches list"):
            found = []
            for number, batch in enumerate(self.client.messages.batches.list(limit=100)):
                if number >= LIST_LIMIT or _epoch(batch.created_at) < shard.creating_since - SLACK:
                    break
                c = batch.request_counts
                size = c.processing + c.succeeded + c.errored + c.canceled + c.expired
                if batch.id not in taken and size == len(shard.entries):
                    found.append(batch)
            ended = [b for b in found if b.processing_status == "ended"]
            exact = next((b for b in ended if self._custom_ids(b.id) == set(shard.entries)), None)
        if exact is not None:
            shard.adopted = "exact"
            return exact.id
        running = [b for b in found if b.processing_status != "ended"]
        if len(running) > 1:
            raise AmbiguousBatch([(b.id, _epoch(b.created_at)) for b in running])
        if running:
            shard.adopted = "time and size"
        return running[0].id if running else None

    def _custom_ids(self, batch_id: str) -> set[str]:
        """The custom ids of an ended batch's results: which requests it held."""
        ids = set()
        for result in self.results(Shard(batch_id, self.name, "", {}, batch_id=batch_id), [batch_id]):
            if isinstance(result.custom_id, str):
                ids.add(result.custom_id)
        return ids

    def poll(self, shard: Shard) -> Poll:
        import anthropic

        with sdk_errors(anthropic, f"anthropic batch {shard.batch_id}"):
            batch = self.client.messages.batches.retrieve(shard.batch_id)
        c = batch.request_counts
        counts = {"processing": c.processing, "succeeded": c.succeeded, "errored": c.errored,
                  "canceled": c.canceled, "expired": c.expired}
        return Poll(status=batch.processing_status, ended=batch.processing_status == "ended", counts=counts,
                    files=[shard.batch_id] if batch.processing_status == "ended" else [])

    def results(self, shard: Shard, files: list[str]) -> Iterator[LineResult]:
        import anthropic

        for batch_id in files:
            with sdk_errors(anthropic, f"anthropic batch {batch_id} results"):
                raw = raw_bytes(self.client.messages.batches.with_raw_response.results(batch_id))
            for number, line in enumerate(raw.decode("utf-8", "replace").splitlines(), 1):
                if line.strip():
                    yield self._line(line, batch_id, number, retirement("anthropic", shard.model))

    def _line(self, raw: str, batch_id: str, number: int, retired: str | None) -> LineResult:
        where = f"anthropic batch {batch_id} line {number}"
        obj = json_line(raw, where)
        if isinstance(obj, LineError):
            return LineResult(None, None, obj)
        custom_id, result = obj.get("custom_id"), obj.get("result")
        kind = result.get("type") if isinstance(result, dict) else None
        if kind == "succeeded":
            return LineResult(custom_id, result.get("message"), None)
        if kind == "errored":
            error = result.get("error") if isinstance(result.get("error"), dict) else {}
            inner = error.get("error") if isinstance(error.get("error"), dict) else error
            etype = str(inner.get("type", "api_error"))
            severity = "permanent" if etype in PERMANENT else "transient"  # unknown types go out again
            hint = f" ({retired})" if etype == "not_found_error" and retired else ""
            return LineResult(custom_id, None,
                              line_error(severity, f"{where}: {etype}: {inner.get('message', '')}{hint}"))
        return LineResult(custom_id, None, line_error("transient", f"{where}: {kind or 'no result'}"))

    def cancel(self, shard: Shard) -> None:
        import anthropic

        with sdk_errors(anthropic, f"anthropic batch {shard.batch_id}"):
            self.client.messages.batches.cancel(shard.batch_id)

    def reply(self, body: Any, mode: str, tool: str, where: str) -> Reply:
        return anthropic_messages.reply_from_body(body, OutputMode(mode), tool, where)


def _epoch(value: Any) -> float:
    return value.timestamp() if isinstance(value, datetime) else float(value or 0)


def create(spec: ModelSpec, base_url: str | None, timeout: float) -> AnthropicBatch:
    return AnthropicBatch(spec, base_url, timeout)
