"""`--cancel`: stop every unfinished batch the manifest records, whatever models the command names.

A cancelled shard is recorded as such, so a second `--cancel` finds nothing new. What
a cancelled batch finished is paid for and stays collectable: the next run without
--cancel reads it, and sends the cancelled requests again (buying them again). A batch
recognised only by its creation time and size is not cancelled: it may be someone
else's.
"""

from __future__ import annotations

from planner.errors import WorkError
from planner.providers.batch import Shard
from planner.run.batching.adopt import adopt
from planner.run.batching.rounds import State


def cancel_all(state: State) -> tuple[int, list[str]]:
    """Cancel the manifest's unfinished batches: (how many were cancelled, one line per batch that was not)."""
    cancelled, problems = 0, []
    for shard in state.manifest.active():
        if shard.state == "cancelled":
            continue
        try:
            done = _cancel(state, shard)
        except WorkError as exc:
            problems.append(f"{shard.model}: batch {shard.batch_id or shard.id} was not cancelled: {exc}")
            continue
        cancelled += done
    state.manifest.save()
    return cancelled, problems


def _cancel(state: State, shard: Shard) -> bool:
    if shard.engine.startswith("batch-file|"):
        shard.state, shard.error = "collected", "cancelled: the emitted file's results are not read"
        state.show(f"{shard.model}: the requests emitted to {shard.path} were given up")
        return True
    engine = state.engines.get(shard.engine)
    if engine is None:
        raise WorkError(state.engines.problems.get(shard.engine, "no engine reaches it"))  # type: ignore[attr-defined]
    if shard.batch_id is None and not (shard.state in ("uploaded", "creating") and adopt(state, engine, shard)):
        shard.state, shard.error = "collected", "never created"
        return False
    if shard.adopted == "time and size":
        raise WorkError("it was recognised by its creation time and size only and may be someone else's; cancel it "
                        "yourself if it is ours")
    if engine.poll(shard).ended:
        state.show(f"{shard.model}: batch {shard.batch_id} has ended already; the next run collects it")
        return False
    engine.cancel(shard)
    shard.state = "cancelled"
    state.manifest.save()
    state.show(f"{shard.model}: batch {shard.batch_id} cancelled ({len(shard.entries)} request(s))")
    return True
