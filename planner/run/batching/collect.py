"""Polling and collecting: read each batch's status, and put every answer into the cache by custom_id.

Lines that expired, were cancelled or failed transiently go out again in the next
round (at most MAX_TRIES times); invalid requests fail their jobs.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from planner.errors import WorkError
from planner.providers.batch import Engine, Entry, LineError, Poll, Shard
from planner.run.batching.rounds import State

log = logging.getLogger(__name__)
MAX_TRIES = 3


def poll_once(state: State) -> list[Shard]:
    """Poll every submitted shard once; collect the ones that ended. Returns those still running."""
    running = []
    for shard in state.manifest.active():
        engine = state.engines.get(shard.engine)
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
            state.show(f"{shard.model}: batch {shard.batch_id}: {poll.status}" + (f" ({counts})" if counts else ""))
        if poll.ended:
            collect(state, engine, shard, poll)
        else:
            running.append(shard)
    state.manifest.save()
    return running


def collect(state: State, engine: Engine, shard: Shard, poll: Poll) -> None:
    """Read an ended batch's results into the cache; a request without an answer counts as a failed try."""
    if poll.error and not poll.files:
        shard_failed(state, shard, f"batch {shard.batch_id} failed: {poll.error}",
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
            line_failed(state, entry, result.error)
            continue
        try:
            reply = engine.reply(result.body, entry.mode, entry.tool, f"batch {shard.batch_id}")
        except WorkError as exc:
            line_failed(state, entry, LineError("transient", str(exc)))
            continue
        reply.meta.update(batch_id=shard.batch_id, batch_discount=engine.discount, bought_by=state.run_id,
                          created=datetime.now(UTC).isoformat(timespec="seconds"))
        state.cache.put(entry.key, reply)
    for cid, entry in shard.entries.items():
        if cid not in seen:
            line_failed(state, entry, LineError("transient", f"batch {shard.batch_id} returned no line for it"))
    shard.state = "collected"


def line_failed(state: State, entry: Entry, error: LineError) -> None:
    """Count a failed try of one request; a permanent error, or the last try, fails its job."""
    tries = state.manifest.tries.get(entry.key, 0) + 1
    state.manifest.tries[entry.key] = tries
    if error.kind == "permanent" or tries >= MAX_TRIES:
        suffix = "" if error.kind == "permanent" else f" (gave up after {tries} batch attempts)"
        state.failed[entry.key] = error.message + suffix
    else:
        log.warning("%s: %s; it goes out again in the next round", entry.job, error.message)


def shard_failed(state: State, shard: Shard, message: str, permanent: bool, token_limit: bool = False) -> None:
    """A whole batch failed: halve the shard size after a token-limit refusal, else fail each request's try."""
    shard.state, shard.error = "collected", message
    if token_limit and len(shard.entries) > 1:
        state.manifest.limits[shard.engine] = max(1, len(shard.entries) // 2)
        log.warning("%s; sending smaller batches (%d requests)", message, state.manifest.limits[shard.engine])
    else:
        for entry in shard.entries.values():
            line_failed(state, entry, LineError("permanent" if permanent or token_limit else "transient", message))
    state.manifest.save()
