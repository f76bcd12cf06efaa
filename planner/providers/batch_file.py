"""Self-hosted batches as a batch engine: a file for vLLM's run-batch out, its results file in.

`--emit FILE` writes the round's requests in OpenAI's batch line format (custom_id,
method, url, body), which `vllm run-batch -i FILE -o RESULTS --model M` reads; vLLM
serves one model, so one file holds one model's requests. `--collect RESULTS` reads
its output (one line per request, failures inline, in any order; a regular file only,
streamed line by line) and the driver steps the jobs, emitting the next round when
repairs are needed. Nothing here talks to a
network; the answers are priced at nothing.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from planner.errors import UsageError
from planner.inputs import open_user_file
from planner.providers.batch import LineResult, Poll, Shard, line_error, openai_line
from planner.providers.openai_batch import OpenAILines
from planner.registry import ModelSpec

MAX_RESULTS_BYTES = 16_000_000_000  # a bound for a file that never ends, far above any real results file


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
        shard.path, shard.batch_id = os.path.realpath(self.emit_path), f"file:{self.emit_path.name}"
        shard.state = "submitted"
        self.emitted_now.add(shard.id)
        save()

    def adopt(self, shard: Shard, taken: set[str]) -> str | None:
        return None

    def poll(self, shard: Shard) -> Poll:
        if self.collect_path is None or shard.id in self.emitted_now:
            return Poll(status=f"waiting for the results of {shard.path}", ended=False)
        return Poll(status="results given", ended=True, files=[str(self.collect_path)])

    def results(self, shard: Shard, files: list[str]) -> Iterator[LineResult]:
        """The file's lines for this shard's requests, read one at a time (a results file may be hundreds of
        MB); lines of another round's requests belong to another shard and are passed over."""
        for name in files:
            with open_user_file(Path(name), "--collect", MAX_RESULTS_BYTES,
                                hint="give the results file vLLM's run-batch wrote") as fh:
                for number, raw in enumerate(fh, 1):
                    if not raw.strip():
                        continue
                    where = f"{Path(name).name} line {number}"
                    try:
                        result = openai_line(raw.decode("utf-8"), where)
                    except UnicodeDecodeError:
                        result = LineResult(None, None, line_error("transient", f"{where}: not UTF-8 text"))
                    if not isinstance(result.custom_id, str) or result.custom_id in shard.entries:
                        yield result

    def cancel(self, shard: Shard) -> None:
        return None
