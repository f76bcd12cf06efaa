"""Batch result lines as the contracts allow them: error codes planner has never seen go out again, an
invalid request fails its job worded as the provider's error, and a retired model says so on the batch
path as on the synchronous one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import SECRET, plan_obj
from fakeserver import FakeServer, Reply

from planner.cli.main import main


@pytest.fixture
def server(monkeypatch):
    with FakeServer(default=lambda request: Reply.json(plan_obj(5))) as srv:
        for var in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY"):
            monkeypatch.setenv(var, SECRET)
        monkeypatch.setenv("OPENAI_BASE_URL", srv.openai_base_url)
        monkeypatch.setenv("ANTHROPIC_BASE_URL", srv.anthropic_base_url)
        srv.batches.polls_until_done = 1
        yield srv


def batch(out: Path, models: str) -> int:
    return main(["batch", "--papers", "simsiam", "--models", models, "--via", "batch-api", "--poll-interval", "0.01",
                 "--out", str(out)])


def failures(out: Path) -> list[dict]:
    path = out / "failures.jsonl"
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()] if path.exists() else []


@pytest.mark.parametrize("code", ["server_error", "rate_limit_exceeded", "request_timeout", "a_code_never_seen"])
def test_an_unknown_error_code_goes_out_again(server, tmp_path, code):
    seen: list[str] = []

    def fate(custom_id: str, body: dict) -> str | None:
        seen.append(custom_id)
        return f"code:{code}" if len(seen) == 1 else None

    server.batches.line_fate = fate
    assert batch(tmp_path / "out", "gpt-4o") == 0
    assert len(server.batches.created) == 2 and not failures(tmp_path / "out")


def test_an_invalid_request_line_fails_its_job_as_a_provider_error(server, tmp_path, capsys):
    server.batches.line_fate = lambda custom_id, body: "code:invalid_request"
    assert batch(tmp_path / "out", "gpt-4o") == 1
    [record] = failures(tmp_path / "out")
    assert "invalid_request" in record["reason"] and "no valid plan" not in record["reason"]
    assert len(server.batches.created) == 1


@pytest.mark.parametrize(("model", "words"), [
    ("claude-3.5-sonnet", "retired by Anthropic on 2025-10-28"), ("o3-mini", "retired by OpenAI on 2026-10-23")])
def test_a_retired_model_says_so_on_the_batch_path(server, tmp_path, model, words):
    server.default = lambda request: Reply.status(404, f"model: {request.body.get('model')}")
    assert batch(tmp_path / "out", model) == 1
    [record] = failures(tmp_path / "out")
    assert words in record["reason"] and "no valid plan" not in record["reason"]
