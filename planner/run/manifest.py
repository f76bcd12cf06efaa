"""The batch manifest: every shard we send to a batch engine, and every id it got, on disk at once.

Money is spent when a batch is created, so the manifest is written (atomically,
durably) before each step that could spend or lose it: the shard and its requests
before upload, the file id the moment it exists, a 'creating' mark before the batch is
created, the batch id the moment it returns. Killed anywhere, the same command finds
the manifest and collects those batches instead of buying them again; a batch created
in the instant before its id was saved is found again by the engine (`adopt`).

A manifest is written only when its content changed (a sweep polls thousands of times),
and read only when it has the shape we write: anything else is refused with one line,
never replaced, since it may record batches already paid for.
"""

from __future__ import annotations

import json
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path

from pydantic import BaseModel, ValidationError

from planner.cards.outdir import STATE
from planner.cards.store import atomic_write
from planner.errors import WorkError
from planner.providers.batch import Shard

STATES = ("prepared", "uploaded", "creating", "submitted", "cancelled", "collected")
POLLED = ("submitted", "cancelled")  # shards with a batch whose status is read (a cancelled one may hold answers)


class _File(BaseModel):
    """The manifest's shape on disk (planner.providers.batch.Shard gives each shard's fields and types)."""

    version: int
    shards: list[Shard]
    tries: dict[str, int]
    limits: dict[str, int]


@dataclass
class Manifest:
    path: Path
    shards: dict[str, Shard] = field(default_factory=dict)
    tries: dict[str, int] = field(default_factory=dict)  # cache key -> batch attempts that failed transiently
    limits: dict[str, int] = field(default_factory=dict)  # engine -> requests per shard after token-limit failures
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _saved: str | None = field(default=None, repr=False)  # the text on disk, as we last read or wrote it

    @classmethod
    def load(cls, out: Path, name: str = "batches.json") -> Manifest:
        path = out / STATE / name
        manifest = cls(path)
        try:
            raw = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return manifest
        except (OSError, ValueError) as exc:
            raise _unreadable(path, str(exc)) from None
        try:
            data = _File.model_validate_json(raw)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "the top level"
            raise _unreadable(path, f"{where}: {first['msg']}") from None
        bad = next((s for s in data.shards if s.state not in STATES), None)
        if bad is not None:
            raise _unreadable(path, f"shard {bad.id[:40]!r} has an unknown state {bad.state[:40]!r}")
        manifest.shards = {s.id: s for s in data.shards}
        manifest.tries, manifest.limits = data.tries, data.limits
        manifest._saved = manifest._text()
        return manifest

    def _text(self) -> str:
        data = {"version": 1, "shards": [asdict(s) for s in self.shards.values()], "tries": self.tries,
                "limits": self.limits}
        return json.dumps(data, ensure_ascii=False, indent=1) + "\n"

    def save(self) -> None:
        """Write the manifest durably, unless the file already says exactly this."""
        with self._lock:
            text = self._text()
            if text != self._saved:
                atomic_write(self.path, text, durable=True)
                self._saved = text

    def add(self, shard: Shard) -> Shard:
        self.shards[shard.id] = shard
        self.save()
        return shard

    def active(self) -> list[Shard]:
        """Shards sent (or about to be) whose answers are not collected yet."""
        return [s for s in self.shards.values() if s.state != "collected"]

    def in_flight(self) -> dict[str, Shard]:
        """Cache key -> the active shard that will answer it."""
        return {e.key: s for s in self.active() for e in s.entries.values()}

    def batch_ids(self) -> set[str]:
        """Every batch id recorded for a shard: a batch that is another shard's is never adopted."""
        return {s.batch_id for s in self.shards.values() if s.batch_id}


def _unreadable(path: Path, why: str) -> WorkError:
    return WorkError(f"{path}: the batch manifest cannot be read ({why[:200]}); it records batches already paid "
                     "for, so it is never replaced silently: move it aside to start over")
