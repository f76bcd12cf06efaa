"""Sending: every waiting request that no active shard holds goes out in shards within each engine's limits.

Each shard is recorded in the manifest before any money moves; a creation that fails
transiently may still have created the batch, so the engine is asked to find it first.
An engine that cannot send at all this run (a batch file without --emit) leaves its
requests waiting and says why (`State.blocked`), after the jobs that finished are written.
"""

from __future__ import annotations

import hashlib
import json
import time
from typing import Any

from planner.errors import UsageError, WorkError
from planner.providers.base import TransientError
from planner.providers.batch import Engine, Entry, Shard
from planner.run.batching.adopt import adopt
from planner.run.batching.collect import shard_failed
from planner.run.batching.rounds import Item, State, custom_id

Line = tuple[str, Item, dict[str, Any]]  # cache key, the item asking, the engine's line for its request


def submit(state: State, waiting: dict[str, list[Item]]) -> None:
    """Send every waiting request that no active shard holds, grouped by engine and model."""
    in_flight = state.manifest.in_flight()
    groups: dict[tuple[str, str], list[tuple[str, Item]]] = {}
    for key, items in waiting.items():
        if key not in in_flight:
            item = items[0]
            groups.setdefault((item.engine.name, item.spec.api_id), []).append((key, item))
    for (engine_name, model), requests in groups.items():
        engine = state.engines[engine_name]
        limit = min(engine.max_requests, state.manifest.limits.get(engine.name, engine.max_requests))
        for chunk in split(engine, requests, limit):
            send(state, engine, model, chunk)


def split(engine: Engine, requests: list[tuple[str, Item]], limit: int) -> list[list[Line]]:
    """Chunks of at most `limit` requests and the engine's byte limit."""
    chunks: list[list[Line]] = [[]]
    size = 0
    for key, item in requests:
        entry = engine.entry(custom_id(key), item.spec, item.decision.request)  # type: ignore[union-attr]
        length = len(json.dumps(entry, ensure_ascii=False).encode("utf-8")) + 1
        if chunks[-1] and (len(chunks[-1]) >= limit or size + length > engine.max_bytes):
            chunks.append([])
            size = 0
        chunks[-1].append((key, item, entry))
        size += length
    return [c for c in chunks if c]


def send(state: State, engine: Engine, model: str, chunk: list[Line]) -> None:
    """Record the shard in the manifest, then create its batch."""
    entries = {custom_id(key): Entry(key=key, mode=item.decision.request.mode.value,  # type: ignore[union-attr]
                                     tool=item.decision.request.tool_name, job=item.label)  # type: ignore[union-attr]
               for key, item, _ in chunk}
    digest = hashlib.sha256("".join(sorted(entries)).encode()).hexdigest()[:12]
    shard = state.manifest.add(Shard(id=f"s{int(time.time())}-{digest}", engine=engine.name, model=model,
                                     entries=entries))
    create(state, engine, shard, [line for _, _, line in chunk])


def create(state: State, engine: Engine, shard: Shard, lines: list[dict[str, Any]]) -> None:
    """Create the shard's batch. A creation that fails transiently may have created it: it is looked for
    (and a look-up that cannot tell stops the command, the shard kept for the next run)."""
    try:
        engine.submit(shard, lines, state.manifest.save)
    except UsageError as exc:  # the engine cannot send now (a batch file without --emit): what finished is kept
        shard.state, shard.error = "collected", "never created"
        state.blocked = str(exc)
        state.manifest.save()
        return
    except WorkError as exc:
        if isinstance(exc, TransientError) and adopt(state, engine, shard):
            return
        shard_failed(state, shard, str(exc), permanent=not isinstance(exc, TransientError))
        return
    state.show(f"{shard.model}: batch {shard.batch_id} created with {len(shard.entries)} requests")
