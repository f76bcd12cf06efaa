"""Work in flight: a synchronous call never buys an answer that a batch of the manifest is already buying.

After `batch --via batch-api --no-wait`, a `run` or `batch --via sync` of the same job
would otherwise pay full price for a request its batch is answering at half. So the
synchronous driver asks the guard first: a request held by an unfinished shard is
answered from its batch when that batch has ended (collected into the cache there and
then), and otherwise refused with one line naming the batch and what to do. Nothing is
read or built when the manifest has no unfinished shard.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from planner.core.messages import Reply
from planner.errors import WorkError
from planner.providers.batch import Shard
from planner.run.batching.collect import poll_shard
from planner.run.batching.reach import ManifestEngines
from planner.run.batching.rounds import State
from planner.run.cache import ResponseCache
from planner.run.manifest import POLLED, Manifest


class InFlight(WorkError):
    """A request an unfinished batch is buying: the synchronous run refuses it (nothing is sent)."""


class Guard:
    """The manifest's unfinished shards, by the cache key of each request they hold."""

    def __init__(self, manifest: Manifest, cache: ResponseCache, timeout: float | None,
                 show: Callable[[str], None]) -> None:
        self.keys = manifest.in_flight()
        self.state = State([], cache, manifest, show, engines=ManifestEngines(manifest, timeout))
        self._lock = threading.Lock()

    @property
    def run_id(self) -> str:
        """Marks the answers this guard collected: they were bought for this run, not served from the cache."""
        return self.state.run_id

    def answer(self, key: str) -> Reply | None:
        """The batch answer to the request with this cache key, collected now if its batch ended; None when no
        unfinished batch holds it (or its batch ended without answering it). Raises while its batch runs."""
        shard = self.keys.get(key)
        if shard is None or shard.state in ("prepared", "uploaded"):  # recorded, but no batch was ever created
            return None
        with self._lock:
            self._settle(shard)
            reply = self.state.cache.get(key)
        if reply is not None or shard.state == "collected":
            return reply
        raise InFlight(self._refusal(shard))

    def _settle(self, shard: Shard) -> None:
        engine = self.state.engines.get(shard.engine)
        if engine is not None and shard.state in POLLED and shard.id not in self.state.unreadable:
            poll_shard(self.state, engine, shard)
            self.state.manifest.save()

    def _refusal(self, shard: Shard) -> str:
        problem = self.state.engines.problems.get(shard.engine)  # type: ignore[attr-defined]
        if shard.path is not None:
            return (f"its request is in the batch file {shard.path}, not collected yet; collect vLLM's results with "
                    "--via batch-file --collect RESULTS, or give it up with --via batch-file --cancel")
        if shard.batch_id is None:
            return (f"its request is in a batch of {shard.model} being created when a run was stopped (shard "
                    f"{shard.id}); run 'planner batch' with --via batch-api to find and collect it")
        why = f" ({problem})" if problem else (f" ({shard.error})" if shard.error else "")
        return (f"its request is in batch {shard.batch_id} of {shard.model}, which has not ended{why}; nothing was "
                "bought twice: wait for it and run again (its answer is then used, at the batch price), or stop it "
                "with 'planner batch ... --via batch-api --cancel'")


def guard(out: Path, cache: ResponseCache, timeout: float | None, show: Callable[[str], None]) -> Guard | None:
    """The guard for a synchronous run in `out`, or None when no batch of its manifest is unfinished."""
    manifest = Manifest.load(out)
    if not manifest.active():
        return None
    return Guard(manifest, ResponseCache(out / ".cache") if cache.folder is None else cache, timeout, show)
