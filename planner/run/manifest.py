"""The batch manifest: every shard we send to a batch engine, and every id it got, on disk at once.

Money is spent when a batch is created, so the manifest is written (atomically,
durably) before each step that could spend or lose it: the shard and its requests
before upload, the file id the moment it exists, a 'creating' mark before the batch is
created, the batch id the moment it returns. Killed anywhere, the same command finds
the manifest and collects those batches instead of buying them again; a batch created
in the instant before its id was saved is found again by the engine (`adopt`).
"""

from __future__ import annotations

import json
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path

from planner.cards.outdir import STATE
from planner.cards.store import atomic_write
from planner.errors import WorkError
from planner.providers.batch import Shard

ENDED = ("ended", "failed", "collected")


@dataclass
class Manifest:
    path: Path
    shards: dict[str, Shard] = field(default_factory=dict)
    tries: dict[str, int] = field(default_factory=dict)  # cache key -> batch attempts that failed transiently
    limits: dict[str, int] = field(default_factory=dict)  # engine -> requests per shard after token-limit failures
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def load(cls, out: Path, name: str = "batches.json") -> Manifest:
        path = out / STATE / name
        manifest = cls(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return manifest
        except (OSError, ValueError) as exc:
            raise WorkError(f"{path}: the batch manifest cannot be read ({exc}); it records batches already "
                               "paid for, so it is never replaced silently: move it aside to start over") from None
        manifest.shards = {s["id"]: Shard.from_dict(s) for s in data.get("shards", [])}
        manifest.tries = dict(data.get("tries", {}))
        manifest.limits = dict(data.get("limits", {}))
        return manifest

    def save(self) -> None:
        with self._lock:
            data = {"version": 1, "shards": [asdict(s) for s in self.shards.values()], "tries": self.tries,
                    "limits": self.limits}
            atomic_write(self.path, json.dumps(data, ensure_ascii=False, indent=1) + "\n", durable=True)

    def add(self, shard: Shard) -> Shard:
        self.shards[shard.id] = shard
        self.save()
        return shard

    def active(self) -> list[Shard]:
        """Shards sent (or about to be) whose answers are not collected yet."""
        return [s for s in self.shards.values() if s.state not in ("collected",)]

    def in_flight(self) -> dict[str, Shard]:
        """Cache key -> the active shard that will answer it."""
        return {e.key: s for s in self.active() for e in s.entries.values()}
