"""A fake provider in its own process (as a real one would be), for the batch benchmarks."""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import _common  # noqa: F401  puts tests/ on the path


def _serve(urls, stop, counts, latency: float, answer: Callable) -> None:  # type: ignore[no-untyped-def]
    from fakeserver import FakeServer

    with FakeServer(default=answer, latency=latency) as srv:
        srv.batches.polls_until_done = 1
        urls.put((srv.openai_base_url, srv.anthropic_base_url))
        while not stop.wait(0.05):
            counts["requests"] = len(srv.requests)
            counts["batches"] = len(srv.batches.created)
            counts["lines"] = len(srv.batches.lines)


@contextmanager
def fake_provider(answer: Callable, latency: float = 0.0) -> Iterator[tuple[tuple[str, str], dict]]:
    """(OpenAI base URL, Anthropic base URL) of a server process, and live counts of what it received."""
    manager = multiprocessing.Manager()
    urls, stop, counts = multiprocessing.Queue(), multiprocessing.Event(), manager.dict()
    server = multiprocessing.Process(target=_serve, args=(urls, stop, counts, latency, answer), daemon=True)
    server.start()
    try:
        yield urls.get(timeout=30), counts
    finally:
        stop.set()
        server.join(timeout=10)
        manager.shutdown()
