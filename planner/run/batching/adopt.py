"""Adopting: find a batch that was created for a shard although a kill kept its id out of the manifest.

Money is spent when a batch is created; a shard whose batch was never created cost
nothing, so its requests simply go out again as new shards.
"""

from __future__ import annotations

import logging

from planner.providers.batch import Engine, Shard
from planner.run.batching.rounds import State

log = logging.getLogger(__name__)


def adopt(state: State, engine: Engine, shard: Shard) -> bool:
    """Take over the batch created for `shard`, if the engine finds one; True when it did."""
    try:
        found = engine.adopt(shard)
    except Exception as exc:  # cannot tell: the next run looks again before creating anything
        log.warning("%s: cannot list batches (%s)", shard.model, exc)
        return False
    if found:
        shard.batch_id, shard.state = found, "submitted"
        state.manifest.save()
        state.show(f"{shard.model}: found batch {found}, created before its id could be saved")
    return bool(found)


def resume(state: State) -> None:
    """After a kill: adopt batches created for shards whose id was not saved; drop shards never sent."""
    for shard in state.manifest.active():
        engine = state.engines.get(shard.engine)
        if engine is None or shard.batch_id is not None:
            continue
        if shard.state in ("uploaded", "creating") and adopt(state, engine, shard):
            continue
        shard.state, shard.error = "collected", "never created; its requests were sent again"
    state.manifest.save()
