"""Synchronous batch wall time against the ideal ceil(jobs / concurrency) x latency, and against
concurrency 1. The local server adds a fixed latency to every request, so what is measured is how
well the batch overlaps requests (target within 1.25x of ideal)."""

from __future__ import annotations

import math
import os
import tempfile
import time
from pathlib import Path

from _common import report
from _servers import fake_provider

LATENCY, JOBS, CONCURRENCY = 0.25, 24, 6


def _valid(request):  # type: ignore[no-untyped-def]
    from conftest import plan_obj
    from fakeserver import Reply

    return Reply.json(plan_obj(5))


def main() -> None:
    import anthropic  # noqa: F401  import the SDKs before timing
    import openai  # noqa: F401

    from planner.cards.outdir import claim
    from planner.papers.library import library_ids, resolve_all
    from planner.registry import resolve
    from planner.run.cache import ResponseCache
    from planner.run.jobs import make_jobs
    from planner.run.sweep import Summary, providers_for, run_sync
    from planner.run.task import PlanOptions

    with fake_provider(_valid, LATENCY) as ((openai_url, _), _counts):
        os.environ.update(OPENAI_API_KEY="bench-key", OPENAI_BASE_URL=openai_url)
        opts = PlanOptions()
        jobs = make_jobs(resolve_all(library_ids()[:JOBS]), [resolve("gpt-4o")], opts)
        providers = providers_for((job.spec for job in jobs), None, opts.timeout)
        walls = {}
        with tempfile.TemporaryDirectory() as tmp:  # warm-up: first-use imports and template compiles
            run_sync(jobs[:2], claim(Path(tmp) / "o"), providers, ResponseCache(None), opts.retry, 2, Summary(2))
        for concurrency in (CONCURRENCY, 1):
            with tempfile.TemporaryDirectory() as tmp:
                summary = Summary(len(jobs))
                started = time.monotonic()
                run_sync(jobs, claim(Path(tmp) / "o"), providers, ResponseCache(None), opts.retry, concurrency, summary)
                walls[concurrency] = time.monotonic() - started
                assert summary.count("done") == len(jobs), "bench jobs failed"
    ideal = math.ceil(len(jobs) / CONCURRENCY) * LATENCY
    print(f"{len(jobs)} jobs, latency {LATENCY}s, concurrency {CONCURRENCY}: wall {walls[CONCURRENCY]:.2f}s, "
          f"ideal {ideal:.2f}s; concurrency 1: {walls[1]:.2f}s")
    report("wall / ideal", walls[CONCURRENCY] / ideal, 1.25, "x")
    print(f"speed-up over concurrency 1: {walls[1] / walls[CONCURRENCY]:.2f}x (ideal {CONCURRENCY}x)")


if __name__ == "__main__":
    main()
