"""Providers against servers that misbehave: odd bodies, drip-fed answers, redirects, odd Retry-After.

Everything goes through the real SDKs to a local server; each misbehaviour ends in one
clear line (and, for jobs, a failures.jsonl record), transient ones are retried, and
nothing that could not be parsed reaches the cache.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from conftest import plan_obj
from fakeserver import Reply

from planner.cli.main import main
from planner.papers.library import load_paper
from planner.providers.base import PermanentError, TransientError
from planner.providers.factory import make_provider
from planner.providers.http import retry_after_seconds
from planner.providers.retry import RetryPolicy
from planner.registry import resolve
from planner.run.cache import ResponseCache
from planner.run.sync import Asker, converse
from planner.run.task import PlanOptions, conversation

ONCE = RetryPolicy(attempts=1)
TWICE = RetryPolicy(attempts=2, initial=0.01)


def ask(model: str, policy: RetryPolicy = ONCE, timeout: float = 5, cache: ResponseCache | None = None):
    spec = resolve(model)
    conv = conversation(load_paper("simsiam"), spec, PlanOptions(timeout=timeout, retry=policy))
    return converse(conv, Asker(make_provider(spec, None, timeout), cache or ResponseCache(None), policy, "t"))


@pytest.mark.parametrize("model", ["gpt-4o", "claude-3.5-sonnet"])
@pytest.mark.parametrize(
    "reply, kind, words",
    [
        (Reply.raw_body(b"<!DOCTYPE html><html><body>Login</body></html>", content_type="text/html"),
         PermanentError, "HTML page"),
        (Reply.raw_body(b""), TransientError, "empty body"),
        (Reply.raw_body(b"this is not json"), TransientError, "not JSON"),
        (Reply.raw_body(b'{"text": "\xff\xfe broken"}'), TransientError, "not UTF-8"),
        (Reply.raw_body(b"[" * 100_000 + b"]" * 100_000), PermanentError, "nested too deeply"),
        (Reply.raw_body(b'{"id": "x", "object": "chat.completion"}'), TransientError, "the answer has no"),
    ],
    ids=["html", "empty", "not-json", "bad-utf8", "deep", "no-choices"],
)
def test_odd_200_answers_are_one_clear_error(provider_env, tmp_path, model, reply, kind, words):
    provider_env.push(reply)
    cache = ResponseCache(tmp_path / "cache")
    with pytest.raises(kind) as err:
        ask(model, cache=cache)
    message = str(err.value)
    assert words in message and "\n" not in message and len(message) < 400
    assert not list((tmp_path / "cache").rglob("*.json"))  # what could not be parsed is never cached


def test_transient_odd_answers_are_retried(provider_env):
    provider_env.push(Reply.raw_body(b""), Reply.raw_body(b"garbage"), Reply.json(plan_obj()))
    decision = ask("gpt-4o", RetryPolicy(attempts=3, initial=0.01))
    assert len(decision.value.ablations) == 5 and len(provider_env.requests) == 3


def test_timeout_is_a_deadline_for_the_whole_answer(provider_env):
    body = json.dumps({"choices": [{"message": {"content": "x"}, "finish_reason": "stop"}]}).encode()
    provider_env.push(Reply.drip(body, 0.05))  # 60+ bytes at 20 bytes/s: one byte never waits long
    started = time.monotonic()
    with pytest.raises(TransientError, match="--timeout 1s"):
        ask("gpt-4o", timeout=1)
    assert time.monotonic() - started < 2.0


@pytest.mark.parametrize("model", ["gpt-4o", "claude-3.5-sonnet"])
def test_a_redirect_is_never_followed(provider_env, model):
    provider_env.push(Reply.redirect("http://198.51.100.7:9/v1/chat/completions"), Reply.json(plan_obj()))
    with pytest.raises(PermanentError, match="does not follow redirects"):
        ask(model)
    assert len(provider_env.requests) == 1  # nothing was re-sent anywhere


def test_retry_after_forms():
    soon = datetime.now(UTC) + timedelta(seconds=30)
    assert retry_after_seconds({"retry-after": "2"}) == 2.0
    assert retry_after_seconds({"retry-after-ms": "1500"}) == 1.5
    assert 28 <= retry_after_seconds({"retry-after": format_datetime(soon, usegmt=True)}) <= 30
    assert retry_after_seconds({"retry-after": format_datetime(soon - timedelta(hours=1), usegmt=True)}) == 0
    for nonsense in ("nan", "-5", "inf", "soon", "Wed, 99 Foo 2025"):
        assert retry_after_seconds({"retry-after": nonsense}) is None, nonsense


def test_an_http_date_retry_after_is_honoured(provider_env):
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=2), usegmt=True)
    provider_env.push(Reply.status(429, "slow down", headers={"Retry-After": when}), Reply.json(plan_obj()))
    started = time.monotonic()
    ask("gpt-4o", RetryPolicy(attempts=2, initial=0.01))
    assert time.monotonic() - started >= 0.9


def test_odd_answers_in_a_batch_are_recorded_per_job(provider_env, tmp_path, capsys):
    provider_env.default = lambda r: Reply.raw_body(b"<html>proxy error</html>", content_type="text/html")
    out = tmp_path / "out"
    code = main(["batch", "--papers", "simsiam,smm", "--models", "gpt-4o", "--out", str(out)])
    assert code == 1
    failures = [json.loads(line) for line in (out / "failures.jsonl").read_text(encoding="utf-8").splitlines()]
    assert {f["paper"] for f in failures} == {"simsiam", "smm"} and all("HTML page" in f["reason"] for f in failures)
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.count("HTML page") == 2


@pytest.mark.parametrize("args, words", [
    (["--base-url", "http://x:80a/v1"], "not a valid URL"),
    (["--base-url", "ftp://host/v1"], "must start with http"),
    (["--timeout", "-1"], "positive number of seconds"),
    (["--timeout", "0"], "positive number of seconds"),
    (["--timeout", "nan"], "positive number of seconds"),
    (["--max-tokens", "0"], "at least 1"),
    (["--max-repairs", "-1"], "at least 0"),
    (["--num-ablations", "11"], "between 1 and 10"),
    (["--temperature", "-0.5"], "temperature"),
])
def test_bad_options_are_refused_before_any_work(provider_env, tmp_path, capsys, args, words):
    code = main(["batch", "--papers", "simsiam", "--models", "compatible:m", "--out", str(tmp_path / "o"), *args])
    assert code == 2 and provider_env.requests == [] and not (tmp_path / "o").exists()
    err = capsys.readouterr().err
    assert words in err and err.count("\n") == 1 and "Traceback" not in err
