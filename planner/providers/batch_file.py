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

from planner.errors import UsageError
from planner.providers.batch import LineResult, Poll, Shard, openai_line
from planner.providers.openai_batch import OpenAILines
from planner.registry import ModelSpec


class BatchFile(OpenAILines):
    max_requests = 1_000_000
    max_bytes = 10**12
    discount = False

    def __init__(self, spec: ModelSpec, endpoint: str, emit: Path | None, collect: Path | None,
                 write: Callable[[Path, str], None]) -> None:
        """`write` puts the emitted file on disk atomically (the output folder's writer: this layer
        writes nothing itself)."""
        if spec.provider == "anthropic":
            raise UsageError(f"{spec.name}: --via batch-file writes OpenAI batch lines for vLLM; "
                             "use an OpenAI-wire model (e.g. compatible:<model>)")
        self.provider = spec.provider
        self.endpoint = endpoint
        self.name = f"batch-file|{spec.api_id}"
        self.emit_path, self.collect_path = emit, collect
        self.emitted_now: set[str] = set()
        self.write = write

    def submit(self, shard: Shard, entries: list[dict[str, Any]], save: Callable[[], None]) -> None:
        if self.emit_path is None:
            raise UsageError(f"{len(entries)} request(s) of {shard.model} need answers; add --emit FILE.jsonl to "
                             "write them for vLLM's run-batch")
        self.write(self.emit_path, "".join(json.dumps(e, ensure_ascii=False) + "\n" for e in entries))
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
                result = openai_line(raw, f"{Path(name).name} line {number}") if raw.strip() else None
                if result is not None and (result.custom_id in shard.entries or result.custom_id is None):
                    yield result  # lines of another round's requests belong to another shard

    def cancel(self, shard: Shard) -> None:
        return None
