"""The batch driver's loop: plan a round, send it, wait for the batches, collect, and again.

Answers that break the rules come back as repair requests in the next round; the
loop ends when every conversation has ended, or (without waiting) once all is sent.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from planner.core.conversation import Ask, Failed
from planner.run.batching.adopt import resume
from planner.run.batching.collect import poll_once
from planner.run.batching.rounds import Item, State, advance, pending
from planner.run.batching.send import submit
from planner.run.cache import ResponseCache
from planner.run.manifest import Manifest

MAX_ROUNDS = 25


@dataclass
class Driver:
    items: list[Item]
    cache: ResponseCache
    manifest: Manifest
    poll_interval: float = 30.0
    show: Callable[[str], None] = lambda line: None
    sleep: Callable[[float], None] = time.sleep
    adopt: str | None = None  # --adopt: the batch the user named among the candidates for a lost id
    state: State = field(init=False)

    def __post_init__(self) -> None:
        self.state = State(self.items, self.cache, self.manifest, self.show)

    def run(self, wait: bool) -> bool:
        """Run rounds until every conversation ends (True), or, without waiting, until all is sent (False; also
        when requests could not be sent: `state.blocked` says why)."""
        resume(self.state, self.adopt)
        for _ in range(MAX_ROUNDS):
            advance(self.state)
            waiting = pending(self.state)
            if not waiting:
                return True
            submit(self.state, waiting)
            running = poll_once(self.state)
            while running and wait and not self.state.blocked:
                self.sleep(self.poll_interval)
                running = poll_once(self.state)
            if self.state.blocked or (running and not wait):
                advance(self.state)
                return False
        for item in self.items:
            if isinstance(item.decision, Ask):
                item.decision = Failed([f"no answer after {MAX_ROUNDS} batch rounds"], "provider")
        return True
