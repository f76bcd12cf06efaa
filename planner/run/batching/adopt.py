"""Adopting: find a batch that was created for a shard although a kill kept its id out of the manifest.

Money is spent when a batch is created; a shard whose batch was never created cost
nothing, so its requests simply go out again as new shards. What must never happen is
a new batch for requests whose batch exists: so a batch recorded for another shard is
never taken, several candidates stop the command with one line naming them (the user
picks one with `--adopt BATCH_ID`, or runs again once they ended and can be compared),
and a failed look-up stops it too, with nothing sent again.
"""

from __future__ import annotations

from datetime import UTC, datetime

from planner.errors import UsageError, WorkError
from planner.providers.batch import AmbiguousBatch, Engine, Shard
from planner.run.batching.rounds import State


def adopt(state: State, engine: Engine, shard: Shard, chosen: str | None = None) -> bool:
    """Take over the batch created for `shard`, if the engine finds one; True when it did.

    `chosen` (from --adopt) settles a choice between several candidates."""
    try:
        found = engine.adopt(shard, state.manifest.batch_ids())
    except AmbiguousBatch as exc:
        if chosen not in [batch_id for batch_id, _ in exc.candidates]:
            raise WorkError(_ambiguous(shard, exc)) from None
        found, shard.adopted = chosen, "--adopt"
    except WorkError as exc:
        raise WorkError(f"{shard.model}: cannot list the batches to find the one created for shard {shard.id} "
                        f"when a run was stopped ({exc}); nothing was sent again: run the same command again") from None
    if found:
        shard.batch_id, shard.state = found, "submitted"
        state.manifest.save()
        how = " (recognised by its creation time and size)" if shard.adopted == "time and size" else ""
        state.show(f"{shard.model}: found batch {found}, created before its id could be saved{how}")
    return bool(found)


def _ambiguous(shard: Shard, exc: AmbiguousBatch) -> str:
    listed = ", ".join(f"{batch_id} (created {datetime.fromtimestamp(created, UTC):%Y-%m-%d %H:%M:%S} UTC)"
                       for batch_id, created in exc.candidates)
    return (f"{shard.model}: a batch of {len(shard.entries)} request(s) was created for shard {shard.id} just before "
            f"a run was stopped, and {len(exc.candidates)} batches could be it: {listed}; nothing was sent again. Run "
            "the same command with --adopt BATCH_ID naming ours, or again once they have ended (their requests are "
            "then compared with ours)")


def resume(state: State, chosen: str | None = None) -> None:
    """After a kill: adopt batches created for shards whose id was not saved; drop shards never sent."""
    used = False
    for shard in state.manifest.active():
        engine = state.engines.get(shard.engine)
        if engine is None or shard.batch_id is not None:
            continue
        if shard.state in ("uploaded", "creating") and adopt(state, engine, shard, chosen):
            used = used or shard.batch_id == chosen
            continue
        shard.state, shard.error = "collected", "never created; its requests were sent again"
    state.manifest.save()
    if chosen and not used:
        raise UsageError(f"--adopt {chosen}: no batch of this command waits to be adopted under that id; use it "
                         "only with an id planner named as a candidate")
