"""Many jobs at once: the synchronous driver on worker threads, or the providers' batch engines.

`run_sync` runs jobs concurrently (the SDK clients are thread-safe and the work is
network-bound) on daemon threads, so Ctrl-C returns at once with the results so far:
finished cards are on disk, and the rerun plans only what is missing. `run_batched`
sends OpenAI and Anthropic jobs through their batch engines (or all jobs through a
vLLM batch file) and the rest synchronously, in the same command.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from planner.core.conversation import Ask, Conversation, Done, Failed
from planner.errors import WorkError
from planner.providers.base import Provider
from planner.providers.batch import Engine
from planner.providers.factory import make_batch_engine, make_provider
from planner.providers.retry import RetryPolicy
from planner.registry import ModelSpec
from planner.run.batching.driver import Driver
from planner.run.batching.inflight import Guard
from planner.run.batching.rounds import Item
from planner.run.cache import ResponseCache
from planner.run.jobs import Job, JobResult, fail, finish
from planner.run.manifest import Manifest
from planner.run.sync import Asker, converse

log = logging.getLogger(__name__)
T = TypeVar("T")
R = TypeVar("R")


@dataclass
class Summary:
    total: int
    results: list[JobResult] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)
    interrupted: bool = False
    waiting: int = 0  # jobs whose batches are still running (--no-wait, or a batch file to collect)
    blocked: str | None = None  # why waiting requests could not be sent (a batch file without --emit)
    via: dict[str, int] = field(default_factory=dict)

    def count(self, status: str) -> int:
        return sum(r.status == status for r in self.results)

    @property
    def spent_tokens(self) -> int:
        return sum(r.spent_input + r.spent_output for r in self.results)

    @property
    def spent_cost(self) -> float:
        """USD of the answers bought, where known (`unpriced` counts the jobs whose cost is unknown)."""
        return sum(r.spent_cost or 0.0 for r in self.results)

    @property
    def sync_cost(self) -> float:
        return sum(r.sync_cost or 0.0 for r in self.results)

    @property
    def unpriced(self) -> int:
        return sum(r.spent_cost is None for r in self.results if r.spent_input or r.spent_output)


def providers_for(specs: Iterable[ModelSpec], base_url: str | None, timeout: float | None) -> dict[str, Provider]:
    """One adapter per model, made up front: a missing key stops the command before any work (the SDK
    client itself is built when a request is first sent)."""
    return {name: make_provider(spec, base_url, timeout) for name, spec in _by_name(specs).items()}


def batch_engines(specs: Iterable[ModelSpec], base_url: str | None, timeout: float | None) -> dict[str, Engine]:
    """The batch engine of each model whose provider has one (OpenRouter and compatible servers have none)."""
    engines = {name: make_batch_engine(spec, base_url, timeout) for name, spec in _by_name(specs).items()}
    return {name: engine for name, engine in engines.items() if engine is not None}


def _by_name(specs: Iterable[ModelSpec]) -> dict[str, ModelSpec]:
    """Each model once (the specs of one command that share a name are the same model)."""
    return {spec.name: spec for spec in specs}


def _end(job: Job, out: Path, conv: Conversation[Any], decision: Any, provider: str, endpoint: str,
         via: str) -> JobResult:
    if isinstance(decision, Done):
        return finish(job, out, conv, decision, provider, endpoint, via)
    errors = decision.errors
    reason = "; ".join(errors[:3])
    if decision.kind == "invalid":
        reason = f"no valid plan after {conv.repairs} repair turn(s): " + reason
    return fail(job, out, conv, errors, reason, provider, endpoint, via)


def run_one(job: Job, out: Path, provider: Provider, cache: ResponseCache, retry: RetryPolicy,
            guard: Guard | None = None) -> JobResult:
    """One job through the synchronous driver; every way it can end becomes a result, never an exception.
    `guard` keeps it from buying what a batch of the manifest is buying."""
    conv = job.conversation()
    try:
        decision = converse(conv, Asker(provider, cache, retry, job.name, guard))
    except WorkError as exc:
        return fail(job, out, conv, [str(exc)], str(exc), provider.name, provider.endpoint, "sync")
    except Exception as exc:  # a bug in one job must not stop the others, and it is recorded like any failure
        log.debug("%s: %s", job.name, traceback.format_exc())
        reason = f"internal error: {type(exc).__name__}: {exc}"
        return fail(job, out, conv, [reason], reason, provider.name, provider.endpoint, "sync")
    return _end(job, out, conv, decision, provider.name, provider.endpoint, "sync")


def run_pool(items: list[T], work: Callable[[T], R], concurrency: int,
             on_result: Callable[[T, R], None]) -> bool:
    """Run `work` on every item on `concurrency` daemon threads, handing each result to `on_result` in
    this thread as it arrives. Returns False when Ctrl-C stopped it (finished results were handed over)."""
    pending: queue.Queue[T] = queue.Queue()
    for item in items:
        pending.put(item)
    done: queue.Queue[tuple[T, R]] = queue.Queue()

    def worker() -> None:
        while True:
            try:
                item = pending.get_nowait()
            except queue.Empty:
                return
            done.put((item, work(item)))

    for _ in range(min(concurrency, len(items))):
        threading.Thread(target=worker, daemon=True).start()
    finished = 0
    try:
        while finished < len(items):
            try:
                item, result = done.get(timeout=0.2)  # a timed wait keeps Ctrl-C responsive
            except queue.Empty:
                continue
            finished += 1
            on_result(item, result)
    except KeyboardInterrupt:
        while not pending.empty():  # stop handing out work; in-flight calls die with the process
            try:
                pending.get_nowait()
            except queue.Empty:
                break
        return False
    return True


def run_sync(jobs: list[Job], out: Path, providers: dict[str, Provider], cache: ResponseCache,
             retry: RetryPolicy, concurrency: int, summary: Summary,
             on_result: Callable[[JobResult], None] = lambda r: None, guard: Guard | None = None) -> None:
    """Run jobs through the synchronous driver; results land in `summary` as they finish."""
    summary.via["sync"] = summary.via.get("sync", 0) + len(jobs)

    def record(job: Job, result: JobResult) -> None:
        summary.results.append(result)
        on_result(result)

    work = lambda job: run_one(job, out, providers[job.spec.name], cache, retry, guard)  # noqa: E731
    summary.interrupted = not run_pool(jobs, work, concurrency, record)


def run_batched(jobs: list[Job], out: Path, engines_for: Callable[[Job], Engine | None], cache: ResponseCache,
                manifest: Manifest, wait: bool, poll_interval: float, show: Callable[[str], None],
                summary: Summary, via: str, on_result: Callable[[JobResult], None] = lambda r: None,
                adopt: str | None = None) -> list[Job]:
    """Run the jobs an engine takes through the batch driver; returns the jobs no engine takes."""
    items: list[tuple[Item, Job]] = []
    rest = []
    for job in jobs:
        engine = engines_for(job)
        if engine is None:
            rest.append(job)
        else:
            items.append((Item(job.name, job.conversation(), job.spec, engine), job))
    if not items:
        return rest
    summary.via[via] = summary.via.get(via, 0) + len(items)
    driver = Driver([item for item, _ in items], cache, manifest, poll_interval, show, adopt=adopt)
    driver.run(wait)
    summary.blocked = driver.state.blocked
    for item, job in items:
        if isinstance(item.decision, Ask):
            summary.waiting += 1
            continue
        decision = item.decision or Failed(["never asked"], "provider")
        result = _end(job, out, item.conv, decision, item.engine.provider, item.engine.endpoint, via)
        summary.results.append(result)
        on_result(result)
    return rest
