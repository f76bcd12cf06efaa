"""Engines for the shards a manifest records, built from the names it stores.

`--cancel` and a synchronous run must reach every batch of the manifest, not only the
batches of the models the command happens to name, so an engine is built from a
shard's engine name (provider and endpoint) and model when it is first needed. Its
SDK client waits until a request is sent, like every client.
"""

from __future__ import annotations

from typing import Any

from planner.errors import UsageError
from planner.providers.batch import Engine
from planner.providers.factory import BATCH_ENGINES, make_batch_engine
from planner.registry import resolve
from planner.run.manifest import Manifest


class ManifestEngines(dict[str, Engine]):
    """Engine name -> engine, built on first use from the manifest; `problems` says why a name has none."""

    def __init__(self, manifest: Manifest, timeout: float | None, known: dict[str, Engine] | None = None) -> None:
        super().__init__(known or {})
        self.manifest, self.timeout = manifest, timeout
        self.problems: dict[str, str] = {}

    def get(self, name: str, default: Any = None) -> Any:
        if name not in self and name not in self.problems:
            self._build(name)
        return super().get(name, default)

    def _build(self, name: str) -> None:
        provider, _, endpoint = name.partition("|")
        model = next((s.model for s in self.manifest.shards.values() if s.engine == name), None)
        if provider not in BATCH_ENGINES or model is None:
            self.problems[name] = ("a vLLM batch file: collect its results with --via batch-file --collect RESULTS"
                                   if provider == "batch-file" else f"no batch engine is known as {name!r}")
            return
        try:
            engine = make_batch_engine(resolve(f"{provider}:{model}"), None, self.timeout)
        except UsageError as exc:
            self.problems[name] = str(exc)
            return
        if engine is None or engine.name != name:
            now = engine.endpoint if engine is not None else "nothing"
            self.problems[name] = (f"it was sent to {endpoint} and planner now reaches {now}; point the {provider} "
                                   "base URL back at it to reach it")
            return
        self[name] = engine
