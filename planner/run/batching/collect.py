"""Polling and collecting: read each batch's status, and put every answer into the cache by custom_id.

Lines that expired, were cancelled or failed transiently go out again in the next
round (at most MAX_TRIES times); invalid requests fail their jobs. A status check that
fails for a moment is tried again at the next poll; one the provider refuses for good
ends that shard for this run with one line: a batch it no longer knows (404) is given
up (a rerun sends its requests again), one it will not show (401, 403) is kept in the
manifest for a run that can read it. Result lines are read defensively: a line whose
custom_id is not ours, not a string, or garbled is passed over with a warning (a few
shown, the rest counted), and when a request has both an answer and an error line,
the answer it was billed for wins.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from planner.errors import WorkError
from planner.providers.base import PermanentError, TransientError
from planner.providers.batch import Engine, Entry, LineError, LineResult, Poll, Shard
from planner.run.batching.rounds import State
from planner.run.manifest import POLLED

log = logging.getLogger(__name__)
MAX_TRIES = 3
SHOWN_ODD_LINES = 5


def poll_once(state: State) -> list[Shard]:
    """Poll every submitted shard once; collect the ones that ended. Returns those still running.

    The manifest is written only when a shard changed: a sweep's polls mostly find every
    batch as it was, and writing (or even serialising) thousands of entries each time is waste."""
    running, changed = [], False
    for shard in state.manifest.active():
        engine = state.engines.get(shard.engine)
        if engine is None or shard.state not in POLLED or shard.id in state.unreadable:
            continue
        before = (shard.state, shard.status, shard.counts, shard.error)
        if poll_shard(state, engine, shard):
            running.append(shard)
        changed = changed or before != (shard.state, shard.status, shard.counts, shard.error)
    if changed:
        state.manifest.save()
    return running


def poll_shard(state: State, engine: Engine, shard: Shard) -> bool:
    """Read one batch's status and collect it if it ended; True while it is still running."""
    try:
        poll = engine.poll(shard)
        if (poll.status, poll.counts) != (shard.status, shard.counts):
            shard.status, shard.counts = poll.status, poll.counts
            counts = " ".join(f"{k} {v}" for k, v in poll.counts.items())
            state.show(f"{shard.model}: batch {shard.batch_id}: {poll.status}" + (f" ({counts})" if counts else ""))
        if not poll.ended:
            return True
        collect(state, engine, shard, poll)
    except TransientError as exc:
        log.warning("%s: cannot read batch %s now (%s); trying again", shard.model, shard.batch_id, exc)
        return True
    except PermanentError as exc:
        unreadable(state, shard, exc)
    return False


def unreadable(state: State, shard: Shard, exc: PermanentError) -> None:
    """The provider refused a status check or a result file for good: end the shard for this run."""
    if getattr(exc, "status", None) == 404:
        shard.status = "unknown to the provider"
        message = (f"batch {shard.batch_id} is unknown to the provider ({exc}); its requests are sent again by the "
                   "next run")
        shard_failed(state, shard, message, permanent=True)
    else:
        message = (f"batch {shard.batch_id} cannot be read ({exc}); it stays in the manifest and the next run that "
                   "can read it collects it")
        shard.error = message
        state.unreadable.add(shard.id)
        for entry in shard.entries.values():
            state.failed[entry.key] = message
    state.show(f"{shard.model}: {message}")


class OddLines:
    """Result lines that answer none of the shard's requests: the first few are shown, the rest counted."""

    def __init__(self, shard: Shard) -> None:
        self.shard, self.count = shard, 0

    def add(self, why: str) -> None:
        self.count += 1
        if self.count <= SHOWN_ODD_LINES:
            log.warning("batch %s: %s; the line was passed over", self.shard.batch_id, why)

    def close(self, answered: int) -> None:
        if self.count > SHOWN_ODD_LINES:
            log.warning("batch %s: %d more such lines were passed over", self.shard.batch_id,
                        self.count - SHOWN_ODD_LINES)
        if self.shard.adopted == "time and size" and self.count and not answered:
            log.warning("batch %s, recognised by its creation time and size, held none of shard %s's requests: it "
                        "was not ours, and they go out again", self.shard.batch_id, self.shard.id)


def _odd(result: LineResult, custom_id: str | None) -> str:
    if custom_id is not None:
        return f"an answer for an unknown request ({custom_id[:64]!r})"
    if result.custom_id is not None:
        return f"a line whose custom_id is not a string ({type(result.custom_id).__name__})"
    return f"a line that cannot be read ({result.error.message if result.error else 'no custom_id'})"


def collect(state: State, engine: Engine, shard: Shard, poll: Poll) -> None:
    """Read an ended batch's results into the cache; a request without an answer counts as a failed try.

    Failed tries are counted only once every line was read, so a download that breaks
    off is simply read again at the next poll."""
    if poll.error and not poll.files:
        shard_failed(state, shard, f"batch {shard.batch_id} failed: {poll.error}",
                     permanent=False, token_limit="token_limit_exceeded" in poll.error)
        return
    odd = OddLines(shard)
    answered: set[str] = set()
    errors: dict[str, LineError] = {}
    for result in engine.results(shard, poll.files):
        cid = result.custom_id if isinstance(result.custom_id, str) else None
        entry = shard.entries.get(cid) if cid is not None else None
        if entry is None or cid is None:
            odd.add(_odd(result, cid))
            continue
        if cid in answered:
            odd.add(f"a second line for {cid}, which was answered already")
            continue
        if result.error is not None:
            errors.setdefault(cid, result.error)
            continue
        try:
            reply = engine.reply(result.body, entry.mode, entry.tool, f"batch {shard.batch_id}")
        except WorkError as exc:
            errors.setdefault(cid, LineError("transient", str(exc)))
            continue
        reply.meta.update(batch_id=shard.batch_id, batch_discount=engine.discount, bought_by=state.run_id,
                          created=datetime.now(UTC).isoformat(timespec="seconds"))
        state.cache.put(entry.key, reply)
        answered.add(cid)
    odd.close(len(answered))
    for cid, entry in shard.entries.items():
        if cid not in answered:
            line_failed(state, entry, errors.get(cid) or LineError(
                "transient", f"batch {shard.batch_id} returned no line for it"))
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
