"""Secrets never leave the process, not even in part, and nothing printed can drive the terminal."""

from __future__ import annotations

import base64

import pytest
from conftest import SECRET
from fakeserver import FakeServer, Reply

from planner.cli.console import clean
from planner.cli.main import main
from planner.secrets import public_url, redact


def _everything_written(out, captured) -> list[str]:
    return [captured.out, captured.err] + [p.read_text(encoding="utf-8", errors="replace")
                                           for p in out.rglob("*") if p.is_file()]


def _fragments(secret: str, size: int = 8) -> list[str]:
    return [secret[i:i + size] for i in range(len(secret) - size + 1)]


def test_a_long_401_is_scrubbed_before_it_is_cut(provider_env, tmp_path, capsys):
    provider_env.push(Reply.status(401, "Incorrect API key provided. " + "x" * 290 + f" Your key: {SECRET}."))
    out = tmp_path / "out"
    assert main(["run", "--paper", "simsiam", "--model", "gpt-4o", "--out", str(out)]) == 1
    texts = _everything_written(out, capsys.readouterr())
    assert not any(piece in text for text in texts for piece in _fragments(SECRET))
    assert "failures.jsonl" in texts[1]


def test_keys_of_any_shape_and_their_fragments_are_removed(monkeypatch, tmp_path, capsys):
    odd_key = "hunter2 correct horse battery staple"  # a compatible server takes any string
    with FakeServer(default=lambda r: Reply.status(403, f"key {odd_key[:20]}... is not allowed here")) as srv:
        monkeypatch.setenv("OPENAI_API_KEY", odd_key)
        out = tmp_path / "out"
        code = main(["run", "--paper", "smm", "--model", "compatible:m", "--base-url", srv.openai_base_url,
                     "--out", str(out)])
    assert code == 1
    texts = _everything_written(out, capsys.readouterr())
    assert not any(piece in text for text in texts for piece in _fragments(odd_key))


def test_credentials_in_the_base_url_and_their_basic_auth_form_stay_secret(monkeypatch, tmp_path, capsys):
    def echo(request) -> Reply:
        return Reply.status(400, f"refused {request.headers.get('authorization')} from {request.path}")

    with FakeServer(default=echo) as srv:
        monkeypatch.delenv("OPENAI_API_KEY", raising=False)
        url = srv.openai_base_url.replace("http://", "http://alice:s3cret-Pa55word@")
        out = tmp_path / "out"
        code = main(["run", "--paper", "smm", "--model", "compatible:m", "--base-url", url, "--out", str(out)])
        sent = srv.requests[0].headers.get("authorization", "")
    assert code == 1 and sent.startswith("Basic ")  # the SDK did send them
    basic = base64.b64encode(b"alice:s3cret-Pa55word").decode()
    texts = _everything_written(out, capsys.readouterr())
    for text in texts:
        assert "s3cret-Pa55word" not in text and basic not in text and "alice:" not in text
    assert any("[redacted]" in text for text in texts)


def test_proxy_and_base_url_variables_are_secrets_too(monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://bob:pr0xy-Pa55@proxy.example:3128")
    monkeypatch.setenv("OPENROUTER_BASE_URL", "https://carol:r0uter-Pa55@openrouter.example/api/v1")
    basic = base64.b64encode(b"bob:pr0xy-Pa55").decode()
    text = redact(f"proxy said: Proxy-Authorization: Basic {basic}; pass pr0xy-Pa55; r0uter-Pa55 via carol")
    assert "pr0xy-Pa55" not in text and basic not in text and "r0uter-Pa55" not in text
    assert public_url("https://carol:r0uter-Pa55@openrouter.example/api/v1") == "https://openrouter.example/api/v1"


@pytest.mark.parametrize("model", ["gpt-4o", "claude-3.5-sonnet"])
def test_terminal_escapes_in_server_and_model_text_are_shown_not_obeyed(provider_env, tmp_path, capsys, model):
    provider_env.push(Reply.status(400, "bad \x1b]0;pwned\x07\x1b[2J\x1b[31mred\u202e request"))
    assert main(["run", "--paper", "smm", "--model", model, "--out", str(tmp_path / "o")]) == 1
    captured = capsys.readouterr()
    for stream in (captured.out, captured.err):
        assert "\x1b" not in stream and "\x07" not in stream and "\u202e" not in stream
    assert "\\x1b]0;pwned" in captured.err


def test_clean_escapes_every_control_character_but_keeps_lines():
    assert clean("a\tb\nc\x00\x1b[2J\x7f\x9b") == "a\tb\nc\\x00\\x1b[2J\\x7f\\x9b"
    assert clean("one\ntwo\u2028three", one_line=True) == "one\\x0atwo\\u2028three"
