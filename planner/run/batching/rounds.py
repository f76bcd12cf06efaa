"""Round planning: step every conversation as far as the response cache allows, and see what is left to ask.

A rerun replays what was already bought from the cache, so nothing in memory needs to
survive a kill: the state of a sweep is the cache plus the manifest.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from planner.core.conversation import Ask, Conversation, Decision, Failed
from planner.providers.batch import Engine
from planner.registry import ModelSpec
from planner.run.cache import ResponseCache, request_key
from planner.run.manifest import Manifest


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
class State:
    """What every step of the batch driver reads and updates."""

    items: list[Item]
    cache: ResponseCache
    manifest: Manifest
    show: Callable[[str], None] = lambda line: None
    engines: dict[str, Engine] = field(default_factory=dict)  # by engine name; the items' engines are added
    failed: dict[str, str] = field(default_factory=dict)  # cache key -> why its request cannot be answered
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex)  # marks answers bought by this run
    blocked: str | None = None  # why requests could not be sent this run (a batch file without --emit)
    unreadable: set[str] = field(default_factory=set)  # shards kept in the manifest whose status cannot be read now

    def __post_init__(self) -> None:
        for item in self.items:
            self.engines.setdefault(item.engine.name, item.engine)


def advance(state: State) -> None:
    """Step every conversation with the answers the cache holds, until none can move."""
    for item in state.items:
        if item.decision is None:
            item.decision = item.conv.start()
        while isinstance(item.decision, Ask):
            key = item.key(item.decision.request)
            if key in state.failed:
                item.decision = Failed([state.failed[key]], "provider")
                break
            reply = state.cache.get(key)
            if reply is None:
                break
            item.keys.append(key)
            item.decision = item.conv.on_reply(reply, cached=reply.meta.get("bought_by") != state.run_id)
        if isinstance(item.decision, Failed) and item.keys:
            state.cache.forget(item.keys)
            item.keys = []


def pending(state: State) -> dict[str, list[Item]]:
    """Cache key -> the items waiting for that request's answer (several jobs may ask the same)."""
    waiting: dict[str, list[Item]] = {}
    for item in state.items:
        if isinstance(item.decision, Ask):
            waiting.setdefault(item.key(item.decision.request), []).append(item)
    return waiting
