"""OpenAI's Batch API as a batch engine: a JSONL file of Chat Completions requests, half price.

A shard is uploaded (`files.create`, purpose "batch"), then turned into a batch
(`batches.create`, 24h window) whose metadata names the shard. Results come from two
files, matched by custom_id (lines arrive in any order): the output file (answers)
and the error file (failed, expired and cancelled lines; its id may be an empty
string when there are none). A batch created in the instant before a kill saved its id
is found again through `batches.list` by its input file id.
"""

from __future__ import annotations

import io
import json
import time
from collections.abc import Callable, Iterator
from typing import Any

from planner.batch_engine import LineResult, Poll, line_error, status_error, status_line_error
from planner.manifest import Shard
from planner.providers import openai_chat
from planner.providers.base import OutputMode, Reply, Request
from planner.providers.http import parse_body
from planner.registry import ModelSpec

ENDED = {"completed", "failed", "expired", "cancelled"}


class OpenAIBatch:
    provider = "openai"
    max_requests = 50_000
    max_bytes = 190_000_000  # under the 200 MB file limit, with room for the multipart envelope
    discount = True

    def __init__(self, spec: ModelSpec, base_url: str | None, timeout: float) -> None:
        import openai

        from planner.providers import http

        where = openai_chat.endpoint(spec, base_url)
        self.endpoint = where.public
        self.name = f"openai|{self.endpoint}"
        self.client = openai.OpenAI(api_key=where.key or "not-needed", base_url=where.url, timeout=timeout,
                                    max_retries=0, http_client=http.client(timeout))

    def entry(self, custom_id: str, spec: ModelSpec, request: Request) -> dict[str, Any]:
        return {"custom_id": custom_id, "method": "POST", "url": "/v1/chat/completions",
                "body": openai_chat.wire_body(spec, request)}

    def submit(self, shard: Shard, entries: list[dict[str, Any]], save: Callable[[], None]) -> None:
        import openai

        try:
            if shard.file_id is None:
                data = "".join(json.dumps(e, ensure_ascii=False) + "\n" for e in entries).encode("utf-8")
                uploaded = self.client.files.create(file=(f"{shard.id}.jsonl", io.BytesIO(data)), purpose="batch")
                shard.file_id, shard.state = uploaded.id, "uploaded"
                save()
            shard.state, shard.creating_since = "creating", shard.creating_since or time.time()
            save()
            batch = self.client.batches.create(input_file_id=shard.file_id, endpoint="/v1/chat/completions",
                                               completion_window="24h", metadata={"planner_shard": shard.id})
        except openai.APIStatusError as exc:
            raise status_error(exc, "openai batch") from None
        except openai.APIError as exc:  # timeouts and dropped connections: the rerun resumes from the manifest
            raise line_error("transient", f"openai batch: {exc}").as_error() from None
        shard.batch_id, shard.state = batch.id, "submitted"
        save()

    def adopt(self, shard: Shard) -> str | None:
        """The id of a batch already created from this shard's file (a kill came before its id was saved)."""
        if shard.file_id is None:
            return None
        for batch in self.client.batches.list(limit=100):
            if batch.input_file_id == shard.file_id:
                return batch.id
        return None

    def poll(self, shard: Shard) -> Poll:
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
        for file_id in files:
            text = self.client.files.content(file_id).text
            for number, raw in enumerate(text.splitlines(), 1):
                if raw.strip():
                    yield self._line(raw, shard, number)

    def _line(self, raw: str, shard: Shard, number: int) -> LineResult:
        where = f"openai batch {shard.batch_id} line {number}"
        try:
            obj = parse_body(raw.encode("utf-8"), where)
        except Exception as exc:  # a garbled line is one lost answer, not a lost batch
            return LineResult(None, None, line_error("transient", str(exc)))
        custom_id = obj.get("custom_id") if isinstance(obj, dict) else None
        response = obj.get("response") if isinstance(obj, dict) else None
        error = obj.get("error") if isinstance(obj, dict) else None
        if isinstance(response, dict) and response.get("status_code") == 200:
            return LineResult(custom_id, response.get("body"), None)
        if isinstance(response, dict) and isinstance(response.get("status_code"), int):
            body = response.get("body") if isinstance(response.get("body"), dict) else {}
            message = (body.get("error") or {}).get("message", "") if isinstance(body.get("error"), dict) else ""
            return LineResult(custom_id, None, status_line_error(response["status_code"], message, where))
        code = error.get("code", "") if isinstance(error, dict) else ""
        message = error.get("message", "") if isinstance(error, dict) else "no answer"
        kind = "transient" if code in ("batch_expired", "batch_cancelled", "") else "permanent"
        return LineResult(custom_id, None, line_error(kind, f"{where}: {code or 'error'}: {message}"))

    def cancel(self, shard: Shard) -> None:
        self.client.batches.cancel(shard.batch_id)

    def reply(self, body: Any, mode: str, tool: str, where: str) -> Reply:
        return openai_chat.reply_from_body(body, OutputMode(mode), tool, where)


def create(spec: ModelSpec, base_url: str | None, timeout: float) -> OpenAIBatch:
    return OpenAIBatch(spec, base_url, timeout)
