"""OpenAI's Batch API as a batch engine: a JSONL file of Chat Completions requests, half price.

A shard is uploaded (`files.create`, purpose "batch"), then turned into a batch
(`batches.create`, 24h window) whose metadata names the shard. Results come from two
files, matched by custom_id (lines arrive in any order): the output file (answers)
and the error file (failed, expired and cancelled lines; its id may be an empty
string when there are none). A batch created in the instant before a kill saved its id
is found again through `batches.list` by its input file id (or the shard named in its
metadata): exactly, never by a guess.
"""

from __future__ import annotations

import io
import json
import time
from collections.abc import Callable, Iterator
from typing import Any

from planner.core.messages import OutputMode, Reply, Request
from planner.providers import openai_chat
from planner.providers.batch import LineResult, Poll, Shard, openai_line, sdk_errors
from planner.registry import ModelSpec, retirement

ENDED = {"completed", "failed", "expired", "cancelled"}
LIST_LIMIT = 300  # batches looked at when adopting: the newest first, and ours was created moments before the kill


class OpenAILines:
    """The OpenAI batch line format: a request line out, a Chat Completions answer back. vLLM's
    run-batch reads and writes the same lines (planner.providers.batch_file)."""

    def entry(self, custom_id: str, spec: ModelSpec, request: Request) -> dict[str, Any]:
        return {"custom_id": custom_id, "method": "POST", "url": "/v1/chat/completions",
                "body": openai_chat.wire_body(spec, request)}

    def reply(self, body: Any, mode: str, tool: str, where: str) -> Reply:
        return openai_chat.reply_from_body(body, OutputMode(mode), tool, where)


class OpenAIBatch(OpenAILines):
    provider = "openai"
    max_requests = 50_000
    max_bytes = 190_000_000  # under the 200 MB file limit, with room for the multipart envelope
    discount = True

    def __init__(self, spec: ModelSpec, base_url: str | None, timeout: float) -> None:
        self._sync = openai_chat.OpenAIChat(spec, base_url, timeout)  # the same endpoint, key and client as sync calls
        self.endpoint = self._sync.endpoint
        self.name = f"openai|{self.endpoint}"

    @property
    def client(self) -> Any:
        return self._sync.client  # built when the first request is sent, not before

    def submit(self, shard: Shard, entries: list[dict[str, Any]], save: Callable[[], None]) -> None:
        import openai

        with sdk_errors(openai, "openai batch"):
            if shard.file_id is None:
                data = "".join(json.dumps(e, ensure_ascii=False) + "\n" for e in entries).encode("utf-8")
                uploaded = self.client.files.create(file=(f"{shard.id}.jsonl", io.BytesIO(data)), purpose="batch")
                shard.file_id, shard.state = uploaded.id, "uploaded"
                save()
            shard.state, shard.creating_since = "creating", shard.creating_since or time.time()
            save()
            batch = self.client.batches.create(input_file_id=shard.file_id, endpoint="/v1/chat/completions",
                                               completion_window="24h", metadata={"planner_shard": shard.id})
        shard.batch_id, shard.state = batch.id, "submitted"
        save()

    def adopt(self, shard: Shard, taken: set[str]) -> str | None:
        """The id of a batch created from this shard's file or naming it in its metadata (a kill came before
        its id was saved): exact, and never a batch recorded for another shard."""
        import openai

        if shard.file_id is None:
            return None
        with sdk_errors(openai, "openai batches list"):
            for number, batch in enumerate(self.client.batches.list(limit=100)):
                if number >= LIST_LIMIT or batch.created_at < shard.created_at - 60:
                    break
                ours = batch.input_file_id == shard.file_id or (batch.metadata or {}).get("planner_shard") == shard.id
                if ours and batch.id not in taken:
                    return batch.id
        return None

    def poll(self, shard: Shard) -> Poll:
        import openai

        with sdk_errors(openai, f"openai batch {shard.batch_id}"):
            batch = self.client.batches.retrieve(shard.batch_id)
        counts = batch.request_counts
        error = None
        if batch.status == "failed" and batch.errors and batch.errors.data:
            first = batch.errors.data[0]
            error = f"{first.code}: {first.message}"
        return Poll(status=batch.status, ended=batch.status in ENDED,
                    counts={"total": counts.total, "completed": counts.completed, "failed": counts.failed}
                    if counts else {}, error=error,
                    files=[f for f in (batch.output_file_id, batch.error_file_id) if f])

    def results(self, shard: Shard, files: list[str]) -> Iterator[LineResult]:
        import openai

        for file_id in files:
            with sdk_errors(openai, f"openai batch {shard.batch_id} results file {file_id}"):
                text = self.client.files.content(file_id).text
            for number, raw in enumerate(text.splitlines(), 1):
                if raw.strip():
                    yield openai_line(raw, f"openai batch {shard.batch_id} line {number}",
                                      retirement("openai", shard.model))

    def cancel(self, shard: Shard) -> None:
        import openai

        with sdk_errors(openai, f"openai batch {shard.batch_id}"):
            self.client.batches.cancel(shard.batch_id)


def create(spec: ModelSpec, base_url: str | None, timeout: float) -> OpenAIBatch:
    return OpenAIBatch(spec, base_url, timeout)
