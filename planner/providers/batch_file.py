"""Self-hosted batches as a batch engine: a file for vLLM's run-batch out, its results file in.

`--emit FILE` writes the round's requests in OpenAI's batch line format (custom_id,
method, url, body), which `vllm run-batch -i FILE -o RESULTS --model M` reads; vLLM
serves one model, so one file holds one model's requests. `--collect RESULTS` reads
its output (one line per request, failures inline, in any order) and the driver steps
the jobs, emitting the next round when repairs are needed. Nothing here talks to a
network; the answers are priced at nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from planner.batch_engine import LineResult, Poll, line_error, status_line_error
from planner.errors import UsageError
from planner.manifest import Shard
from planner.providers import openai_chat
from planner.providers.base import OutputMode, Reply, Request
from planner.providers.http import parse_body
from planner.registry import ModelSpec


class BatchFile:
    max_requests = 1_000_000
    max_bytes = 10**12
    discount = False

    def __init__(self, spec: ModelSpec, endpoint: str, emit: Path | None, collect: Path | None) -> None:
        if spec.provider == "anthropic":
            raise UsageError(f"{spec.name}: --via batch-file writes OpenAI batch lines for vLLM; "
                             "use an OpenAI-wire model (e.g. compatible:<model>)")
        self.provider = spec.provider
        self.endpoint = endpoint
        self.name = f"batch-file|{spec.api_id}"
        self.emit_path, self.collect_path = emit, collect
        self.emitted_now: set[str] = set()

    def entry(self, custom_id: str, spec: ModelSpec, request: Request) -> dict[str, Any]:
        return {"custom_id": custom_id, "method": "POST", "url": "/v1/chat/completions",
                "body": openai_chat.wire_body(spec, request)}

    def submit(self, shard: Shard, entries: list[dict[str, Any]], save: Callable[[], None]) -> None:
        from planner.store import atomic_write

        if self.emit_path is None:
            raise UsageError(f"{len(entries)} request(s) of {shard.model} need answers; add --emit FILE.jsonl to "
                             "write them for vLLM's run-batch")
        atomic_write(self.emit_path, "".join(json.dumps(e, ensure_ascii=False) + "\n" for e in entries))
        shard.path, shard.batch_id, shard.state = str(self.emit_path), f"file:{self.emit_path.name}", "submitted"
        self.emitted_now.add(shard.id)
        save()

    def adopt(self, shard: Shard) -> str | None:
        return None

    def poll(self, shard: Shard) -> Poll:
        if self.collect_path is None or shard.id in self.emitted_now:
            return Poll(status=f"waiting for the results of {shard.path}", ended=False)
        return Poll(status="results given", ended=True, files=[str(self.collect_path)])

    def results(self, shard: Shard, files: list[str]) -> Iterator[LineResult]:
        for name in files:
            try:
                lines = Path(name).read_text(encoding="utf-8").splitlines()
            except (OSError, UnicodeDecodeError) as exc:
                raise UsageError(f"--collect {name}: cannot read the results file ({exc})") from None
            for number, raw in enumerate(lines, 1):
                result = self._line(raw, name, number, shard) if raw.strip() else None
                if result is not None:
                    yield result

    def _line(self, raw: str, name: str, number: int, shard: Shard) -> LineResult | None:
        """The line as a result of `shard` (None when it answers another round's request)."""
        where = f"{Path(name).name} line {number}"
        try:
            obj = parse_body(raw.encode("utf-8"), where)
        except Exception as exc:  # a garbled line is one lost answer
            return LineResult(None, None, line_error("transient", str(exc)))
        if not isinstance(obj, dict):
            return LineResult(None, None, line_error("transient", f"{where}: not a result line"))
        custom_id, response, error = obj.get("custom_id"), obj.get("response"), obj.get("error")
        if custom_id not in shard.entries:
            return None
        if isinstance(response, dict) and response.get("status_code") == 200:
            return LineResult(custom_id, response.get("body"), None)
        if isinstance(response, dict) and isinstance(response.get("status_code"), int):
            body = response.get("body") if isinstance(response.get("body"), dict) else {}
            message = str((body.get("error") or {}).get("message", "")) if isinstance(body.get("error"), dict) else ""
            return LineResult(custom_id, None, status_line_error(response["status_code"], message, where))
        message = error.get("message", "") if isinstance(error, dict) else "no response"
        return LineResult(custom_id, None, line_error("transient", f"{where}: {message}"))

    def cancel(self, shard: Shard) -> None:
        return None

    def reply(self, body: Any, mode: str, tool: str, where: str) -> Reply:
        return openai_chat.reply_from_body(body, OutputMode(mode), tool, where)
