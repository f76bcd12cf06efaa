"""The batch driver: every job's next request goes out in one provider batch per round.

Each round: step every conversation as far as the response cache allows (a rerun
replays what was already bought, so nothing in memory needs to survive a kill), send
the requests still unanswered and not already in flight as shards within each engine's
limits (recorded in the manifest before any money moves), wait for the batches, and
put every answer into the cache, matched by custom_id. Answers that break the rules
come back as repair requests in the next round. Lines that expired, were cancelled or
failed transiently go out again (at most MAX_TRIES times); invalid requests fail
their jobs.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from planner.batch_engine import Engine, LineError, Poll
from planner.cache import ResponseCache, request_key
from planner.conversation import Ask, Conversation, Decision, Failed
from planner.errors import WorkError
from planner.manifest import Entry, Manifest, Shard
from planner.providers.base import TransientError
from planner.registry import ModelSpec

log = logging.getLogger("planner.batch")
MAX_TRIES = 3
MAX_ROUNDS = 25


def custom_id(key: str) -> str:
    """1-64 characters of [A-Za-z0-9_-], unique per request (both engines' rules)."""
    return "r" + key[:40]


@dataclass
class Item:
    """One conversation the driver runs, and where its requests go."""

    label: str
    conv: Conversation[Any]
    spec: ModelSpec
    engine: Engine
    decision: Decision | None = None
    keys: list[str] = field(default_factory=list)

    def key(self, request: Any) -> str:
        return request_key(self.engine.provider, self.engine.endpoint, request)


@dataclass
class Driver:
    items: list[Item]
    cache: ResponseCache
    manifest: Manifest
    poll_interval: float = 30.0
    show: Callable[[str], None] = lambda line: None
    sleep: Callable[[float], None] = time.sleep
    failed: dict[str, str] = field(default_factory=dict)  # cache key -> why its request cannot be answered
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex)  # marks answers bought by this run
    engines: dict[str, Engine] = field(init=False)  # by engine name: the items' engines, one per provider endpoint

    def __post_init__(self) -> None:
        self.engines = {}
        for item in self.items:
            self.engines.setdefault(item.engine.name, item.engine)

    def advance(self) -> None:
        """Step every conversation with the answers the cache holds, until none can move."""
        for item in self.items:
            if item.decision is None:
                item.decision = item.conv.start()
            while isinstance(item.decision, Ask):
                key = item.key(item.decision.request)
                if key in self.failed:
                    item.decision = Failed([self.failed[key]])
                    break
                reply = self.cache.get(key)
                if reply is None:
                    break
                item.keys.append(key)
                item.decision = item.conv.on_reply(reply, cached=reply.meta.get("bought_by") != self.run_id)
            if isinstance(item.decision, Failed) and item.keys:
                self.cache.forget(item.keys)
                item.keys = []

    def pending(self) -> dict[str, list[Item]]:
        waiting: dict[str, list[Item]] = {}
        for item in self.items:
            if isinstance(item.decision, Ask):
                waiting.setdefault(item.key(item.decision.request), []).append(item)
        return waiting

    # ------------------------------------------------------------ sending

    def submit(self, waiting: dict[str, list[Item]]) -> None:
        """Send every waiting request that no active shard holds, grouped by engine and model."""
        in_flight = self.manifest.in_flight()
        groups: dict[tuple[str, str], list[tuple[str, Item]]] = {}
        for key, items in waiting.items():
            if key not in in_flight:
                item = items[0]
                groups.setdefault((item.engine.name, item.spec.api_id), []).append((key, item))
        for (engine_name, model), requests in groups.items():
            engine = self.engines[engine_name]
            for chunk in self._split(engine, requests):
                self._send(engine, model, chunk)

    def _split(self, engine: Engine, requests: list[tuple[str, Item]]) -> list[list[tuple[str, Item, dict]]]:
        limit = min(engine.max_requests, self.manifest.limits.get(engine.name, engine.max_requests))
        chunks: list[list[tuple[str, Item, dict]]] = [[]]
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

    def _send(self, engine: Engine, model: str, chunk: list[tuple[str, Item, dict]]) -> None:
        entries = {custom_id(key): Entry(key=key, mode=item.decision.request.mode.value,  # type: ignore[union-attr]
                                         tool=item.decision.request.tool_name, job=item.label)  # type: ignore[union-attr]
                   for key, item, _ in chunk}
        digest = hashlib.sha256("".join(sorted(entries)).encode()).hexdigest()[:12]
        shard = self.manifest.add(Shard(id=f"s{int(time.time())}-{digest}", engine=engine.name, model=model,
                                        entries=entries))
        self._create(engine, shard, [e for _, _, e in chunk])

    def _create(self, engine: Engine, shard: Shard, lines: list[dict]) -> None:
        try:
            engine.submit(shard, lines, self.manifest.save)
        except WorkError as exc:
            if isinstance(exc, TransientError) and self._adopt(engine, shard):
                return
            self._shard_failed(shard, str(exc), permanent=not isinstance(exc, TransientError))
            return
        self.show(f"{shard.model}: batch {shard.batch_id} created with {len(shard.entries)} requests")

    def _adopt(self, engine: Engine, shard: Shard) -> bool:
        """Take over a batch that was created for `shard` although its id never reached the manifest."""
        try:
            found = engine.adopt(shard)
        except Exception as exc:  # cannot tell: the next run looks again before creating anything
            log.warning("%s: cannot list batches (%s)", shard.model, exc)
            return False
        if found:
            shard.batch_id, shard.state = found, "submitted"
            self.manifest.save()
            self.show(f"{shard.model}: found batch {found}, created before its id could be saved")
        return bool(found)

    def resume(self) -> None:
        """After a kill: adopt batches created for shards whose id was not saved; drop shards never sent.

        A shard without a batch cost nothing, so its requests simply go out again as new shards.
        """
        for shard in self.manifest.active():
            engine = self.engines.get(shard.engine)
            if engine is None or shard.batch_id is not None:
                continue
            if shard.state in ("uploaded", "creating") and self._adopt(engine, shard):
                continue
            shard.state, shard.error = "collected", "never created; its requests were sent again"
        self.manifest.save()

    # ------------------------------------------------------------ waiting and collecting

    def poll_once(self) -> list[Shard]:
        """Poll every submitted shard once; collect the ones that ended. Returns those still running."""
        running = []
        for shard in self.manifest.active():
            engine = self.engines.get(shard.engine)
            if engine is None or shard.state != "submitted":
                continue
            try:
                poll = engine.poll(shard)
            except Exception as exc:  # a status check that fails is retried at the next poll
                log.warning("%s: cannot read the status of batch %s (%s); trying again", shard.model,
                            shard.batch_id, exc)
                running.append(shard)
                continue
            if (poll.status, poll.counts) != (shard.status, shard.counts):
                shard.status, shard.counts = poll.status, poll.counts
                counts = " ".join(f"{k} {v}" for k, v in poll.counts.items())
                self.show(f"{shard.model}: batch {shard.batch_id}: {poll.status}" + (f" ({counts})" if counts else ""))
            if poll.ended:
                self._collect(engine, shard, poll)
            else:
                running.append(shard)
        self.manifest.save()
        return running

    def _collect(self, engine: Engine, shard: Shard, poll: Poll) -> None:
        if poll.error and not poll.files:
            self._shard_failed(shard, f"batch {shard.batch_id} failed: {poll.error}",
                               permanent=False, token_limit="token_limit_exceeded" in poll.error)
            return
        seen: set[str] = set()
        for result in engine.results(shard, poll.files):
            entry = shard.entries.get(result.custom_id or "")
            if entry is None:
                log.warning("batch %s: an answer for an unknown request (%s) was ignored", shard.batch_id,
                            result.custom_id)
                continue
            seen.add(result.custom_id or "")
            if result.error is not None:
                self._line_failed(entry, result.error)
                continue
            try:
                reply = engine.reply(result.body, entry.mode, entry.tool, f"batch {shard.batch_id}")
            except WorkError as exc:
                self._line_failed(entry, LineError("transient", str(exc)))
                continue
            reply.meta.update(batch_id=shard.batch_id, batch_discount=engine.discount, bought_by=self.run_id,
                              created=datetime.now(UTC).isoformat(timespec="seconds"))
            self.cache.put(entry.key, reply)
        for cid, entry in shard.entries.items():
            if cid not in seen:
                self._line_failed(entry, LineError("transient", f"batch {shard.batch_id} returned no line for it"))
        shard.state = "collected"

    def _line_failed(self, entry: Entry, error: LineError) -> None:
        tries = self.manifest.tries.get(entry.key, 0) + 1
        self.manifest.tries[entry.key] = tries
        if error.kind == "permanent" or tries >= MAX_TRIES:
            suffix = "" if error.kind == "permanent" else f" (gave up after {tries} batch attempts)"
            self.failed[entry.key] = error.message + suffix
        else:
            log.warning("%s: %s; it goes out again in the next round", entry.job, error.message)

    def _shard_failed(self, shard: Shard, message: str, permanent: bool, token_limit: bool = False) -> None:
        shard.state, shard.error = "collected", message
        if token_limit and len(shard.entries) > 1:
            self.manifest.limits[shard.engine] = max(1, len(shard.entries) // 2)
            log.warning("%s; sending smaller batches (%d requests)", message, self.manifest.limits[shard.engine])
        else:
            for entry in shard.entries.values():
                self._line_failed(entry, LineError("permanent" if permanent or token_limit else "transient", message))
        self.manifest.save()

    # ------------------------------------------------------------ the loop

    def run(self, wait: bool) -> bool:
        """Run rounds until every conversation ends (True), or, without waiting, until all is sent (False)."""
        self.resume()
        for _ in range(MAX_ROUNDS):
            self.advance()
            waiting = self.pending()
            if not waiting:
                return True
            self.submit(waiting)
            running = self.poll_once()
            while running and wait:
                self.sleep(self.poll_interval)
                running = self.poll_once()
            if running and not wait:
                self.advance()
                return False
        for item in self.items:
            if isinstance(item.decision, Ask):
                item.decision = Failed([f"no answer after {MAX_ROUNDS} batch rounds"])
        return True

