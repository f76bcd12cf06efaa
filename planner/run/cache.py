"""The response cache: an answer already paid for is never bought again.

A request's key is a hash of everything that decides its answer: provider, the
endpoint actually used (base URL without credentials), model, messages and
parameters. Every answer that came back as a well-formed provider response is kept
(an answer the plan rules reject too: the repair turn that follows depends on it, and
a rerun or a later synchronous run replays the same path without sending). A wire
response that could not be parsed never reaches the cache. Keys are hashes, so no
prompt text appears in a file name, and keys never include an API key.

Entries record when they were stored: `--force` asks the model again by accepting
only answers stored after the command started (so a rerun of an interrupted forced
batch still collects what that batch bought).
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path
from typing import Any

from planner.core.messages import Reply, Request


def request_key(provider: str, endpoint: str, request: Request) -> str:
    identity = {"provider": provider, "endpoint": endpoint, "request": request.identity()}
    blob = json.dumps(identity, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


class ResponseCache:
    def __init__(self, folder: Path | None, newer_than: float | None = None) -> None:
        """`folder` None disables the cache; `newer_than` (epoch seconds) ignores older entries."""
        self.folder = folder
        self.newer_than = newer_than

    def _path(self, key: str) -> Path:
        assert self.folder is not None
        return self.folder / key[:2] / f"{key}.json"

    def get(self, key: str) -> Reply | None:
        if self.folder is None:
            return None
        try:
            entry: dict[str, Any] = json.loads(self._path(key).read_text(encoding="utf-8"))
            if self.newer_than is not None and float(entry.get("stored_at", 0)) < self.newer_than:
                return None
            return Reply(**entry["reply"])
        except (OSError, ValueError, TypeError, KeyError):
            return None  # absent or damaged: ask the provider again

    def __contains__(self, key: str) -> bool:
        return self.get(key) is not None

    def put(self, key: str, reply: Reply) -> None:
        if self.folder is None:
            return
        from planner.cards.store import atomic_write

        entry = {"stored_at": time.time(), "reply": reply.to_dict()}
        atomic_write(self._path(key), json.dumps(entry, ensure_ascii=False))

    def forget(self, keys: list[str]) -> None:
        """Drop answers a failed job rested on, so the next run asks afresh instead of failing again."""
        if self.folder is None:
            return
        from planner.cards.store import remove_file

        for key in keys:
            remove_file(self._path(key))
