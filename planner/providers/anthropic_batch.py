"""Anthropic's Message Batches as a batch engine: Messages requests sent inline, half price.

A shard becomes one batch (`messages.batches.create`) whose requests carry the same
params a synchronous call sends. Results stream from the batch's results_url as
JSONL in any order, matched by custom_id: succeeded lines carry a Message, the others
are errored (invalid requests fail the job; server errors go to the next round),
canceled or expired (next round). Anthropic batches carry no metadata, so a batch
created in the instant before a kill saved its id is recognised by its creation time
and request count.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from planner.core.messages import OutputMode, Reply, Request
from planner.providers import anthropic_messages
from planner.providers.batch import (
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

PERMANENT = {"invalid_request_error", "authentication_error", "permission_error", "not_found_error",
             "request_too_large", "billing_error"}


class AnthropicBatch:
    provider = "anthropic"
    max_requests = 100_000
    max_bytes = 250_000_000  # under the 256 MB limit
    discount = True

    def __init__(self, spec: ModelSpec, base_url: str | None, timeout: float) -> None:
        sync = anthropic_messages.AnthropicMessages(spec, base_url, timeout)  # same endpoint, key and client
        self.endpoint, self.client = sync.endpoint, sync.client
        self.name = f"anthropic|{self.endpoint}"

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

    def adopt(self, shard: Shard) -> str | None:
        """A batch created after this shard was marked 'creating', with as many requests: ours, unsaved."""
        if shard.creating_since is None:
            return None
        since = shard.creating_since - 5
        found = []
        for number, batch in enumerate(self.client.messages.batches.list(limit=100)):
            created = _epoch(batch.created_at)
            if number >= 300 or created < since:
                break
            counts = batch.request_counts
            total = counts.processing + counts.succeeded + counts.errored + counts.canceled + counts.expired
            if total == len(shard.entries):
                found.append(batch.id)
        return found[0] if len(found) == 1 else None

    def poll(self, shard: Shard) -> Poll:
        batch = self.client.messages.batches.retrieve(shard.batch_id)
        c = batch.request_counts
        counts = {"processing": c.processing, "succeeded": c.succeeded, "errored": c.errored,
                  "canceled": c.canceled, "expired": c.expired}
        return Poll(status=batch.processing_status, ended=batch.processing_status == "ended", counts=counts,
                    files=[shard.batch_id] if batch.processing_status == "ended" else [])

    def results(self, shard: Shard, files: list[str]) -> Iterator[LineResult]:
        for batch_id in files:
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
        self.client.messages.batches.cancel(shard.batch_id)

    def reply(self, body: Any, mode: str, tool: str, where: str) -> Reply:
        return anthropic_messages.reply_from_body(body, OutputMode(mode), tool, where)


def _epoch(value: Any) -> float:
    return value.timestamp() if isinstance(value, datetime) else float(value or 0)


def create(spec: ModelSpec, base_url: str | None, timeout: float) -> AnthropicBatch:
    return AnthropicBatch(spec, base_url, timeout)
