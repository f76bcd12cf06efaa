"""What the batch tests share: a local server with both batch APIs, the CLI run against it, and counts of
what the server was asked (creates, cancels, synchronous model calls)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from conftest import SECRET, plan_obj
from fakeserver import FakeServer, Reply

from planner.cli.main import main

ROOT = Path(__file__).parents[1]
SYNC_PATHS = ("/v1/chat/completions", "/v1/messages")
KEYS = ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "OPENROUTER_API_KEY")


def valid(request) -> Reply:
    return Reply.json(plan_obj(5))


@contextmanager
def batch_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeServer]:
    with FakeServer(default=valid) as srv:
        for var in KEYS:
            monkeypatch.setenv(var, SECRET)
        monkeypatch.setenv("OPENAI_BASE_URL", srv.openai_base_url)
        monkeypatch.setenv("ANTHROPIC_BASE_URL", srv.anthropic_base_url)
        monkeypatch.setenv("OPENROUTER_BASE_URL", srv.openai_base_url)
        srv.batches.polls_until_done = 2
        yield srv


def batch(out: Path, *extra: str, papers: str = "simsiam,smm,dit", models: str = "gpt-4o",
          via: str = "batch-api") -> int:
    return main(["batch", "--papers", papers, "--models", models, "--via", via, "--poll-interval", "0.01",
                 "--out", str(out), *extra])


def spawn(out: Path, server: FakeServer, *extra: str, papers: str = "simsiam,smm,dit",
          models: str = "gpt-4o") -> subprocess.Popen:
    """The same batch command in its own process (to be killed, or to be stopped by a timeout)."""
    env = {**os.environ, **{k: SECRET for k in KEYS}, "PYTHONPATH": str(ROOT),
           "OPENAI_BASE_URL": server.openai_base_url, "ANTHROPIC_BASE_URL": server.anthropic_base_url}
    return subprocess.Popen([sys.executable, "-m", "planner", "batch", "--papers", papers, "--models", models,
                             "--via", "batch-api", "--poll-interval", "0.05", "--out", str(out), *extra],
                            env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for(condition, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def cards(out: Path) -> list[Path]:
    return sorted(out.glob("lm-planner/*/*.md"))


def sync_calls(server: FakeServer) -> list[str]:
    return [r.path for r in server.requests if r.path in SYNC_PATHS]


def cancels(server: FakeServer) -> list[str]:
    return [r.path for r in server.requests if r.path.endswith("/cancel")]


def failures(out: Path, file: str = "failures.jsonl") -> list[dict]:
    path = out / file
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()] if path.exists() else []


def shards(out: Path) -> list[dict]:
    return json.loads((out / ".planner/batches.json").read_text(encoding="utf-8"))["shards"]


def outside(root: Path, out: Path) -> dict[str, bytes]:
    """Every file under `root` but not under `out`, with its bytes: nothing outside --out may change."""
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and not p.is_symlink() and out not in p.parents}


def with_neighbour(root: Path) -> dict[str, bytes]:
    """A file of the user's beside --out, and what lies outside --out now."""
    (root / "notes.txt").write_text("the user's own notes\n", encoding="utf-8")
    return outside(root, root / "out")
