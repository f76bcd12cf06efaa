"""Proves that tests/fakeserver.py speaks the wire formats the real SDKs expect.

No internet: every client points at a FakeServer on 127.0.0.1 with max_retries=0.
"""

from __future__ import annotations

import asyncio
import json
import time
from concurrent.futures import ThreadPoolExecutor

import anthropic
import openai
import pytest
from pydantic import BaseModel

try:  # tests/ as a plain directory (rootdir-relative import)
    from fakeserver import FakeServer, Recorded, Reply
except ImportError:  # tests/ as a package
    from tests.fakeserver import FakeServer, Recorded, Reply


PLAN_SCHEMA = {
    "type": "object",
    "properties": {
        "goal": {"type": "string"},
        "steps": {"type": "array", "items": {"type": "string"}},
    },
    "required": ["goal", "steps"],
    "additionalProperties": False,
}
PLAN = {"goal": "ship it", "steps": ["write code", "test it"]}
MESSAGES = [{"role": "user", "content": "make a plan"}]


class Plan(BaseModel):
    goal: str
    steps: list[str]


@pytest.fixture
def server():
    with FakeServer() as srv:
        yield srv


def oai(srv: FakeServer, **kw) -> openai.OpenAI:
    return openai.OpenAI(api_key="sk-test", base_url=srv.openai_base_url, max_retries=0, **kw)


def ant(srv: FakeServer, **kw) -> anthropic.Anthropic:
    return anthropic.Anthropic(api_key="sk-ant-test", base_url=srv.anthropic_base_url, max_retries=0, **kw)


def ant_create(client: anthropic.Anthropic, **kw):
    return client.messages.create(model="claude-test", max_tokens=512, messages=MESSAGES, **kw)


PLAN_TOOL = {"name": "submit_plan", "description": "Submit the plan.", "input_schema": PLAN_SCHEMA}


# --------------------------------------------------------------------------- OpenAI


def test_openai_json_schema_create(server):
    server.push(Reply.json(PLAN, input_tokens=11, output_tokens=7))
    rf = {"type": "json_schema", "json_schema": {"name": "plan", "strict": True, "schema": PLAN_SCHEMA}}
    resp = oai(server).chat.completions.create(model="gpt-test", messages=MESSAGES, response_format=rf)

    assert json.loads(resp.choices[0].message.content) == PLAN
    assert resp.choices[0].finish_reason == "stop"
    assert resp.model == "gpt-test"
    assert (resp.usage.prompt_tokens, resp.usage.completion_tokens, resp.usage.total_tokens) == (11, 7, 18)

    (rec,) = server.requests
    assert isinstance(rec, Recorded)
    assert rec.path == "/v1/chat/completions"
    assert rec.body["model"] == "gpt-test"
    assert rec.body["response_format"] == rf
    assert rec.body["messages"] == MESSAGES
    assert rec.headers["authorization"] == "Bearer sk-test"


def test_openai_parse_pydantic(server):
    server.push(Reply.json(PLAN))
    client = oai(server)
    completions = client.chat.completions
    if not hasattr(completions, "parse"):  # older SDKs
        completions = client.beta.chat.completions
    resp = completions.parse(model="gpt-test", messages=MESSAGES, response_format=Plan)

    assert resp.choices[0].message.parsed == Plan(**PLAN)
    rf = server.requests[0].body["response_format"]
    assert rf["type"] == "json_schema" and rf["json_schema"]["name"] == "Plan"
    assert rf["json_schema"]["strict"] is True


def test_openai_text_and_truncated(server):
    server.push(Reply.text("hello"), Reply.truncated('{"goal": "sh'))
    client = oai(server)
    r1 = client.chat.completions.create(model="m", messages=MESSAGES)
    r2 = client.chat.completions.create(model="m", messages=MESSAGES)
    assert (r1.choices[0].message.content, r1.choices[0].finish_reason) == ("hello", "stop")
    assert (r2.choices[0].message.content, r2.choices[0].finish_reason) == ('{"goal": "sh', "length")


@pytest.mark.parametrize(
    "code, exc",
    [
        (429, openai.RateLimitError),
        (401, openai.AuthenticationError),
        (500, openai.InternalServerError),
        (400, openai.BadRequestError),
    ],
)
def test_openai_errors(server, code, exc):
    server.push(Reply.status(code, message="boom", headers={"Retry-After": "1"}))
    with pytest.raises(exc) as ei:
        oai(server).chat.completions.create(model="m", messages=MESSAGES)
    assert ei.value.status_code == code
    assert ei.value.response.headers["retry-after"] == "1"
    assert ei.value.message.endswith("boom") or "boom" in ei.value.message
    assert ei.value.body["message"] == "boom"  # SDK unwraps {"error": {...}}
    assert ei.value.type  # e.g. "requests" / "invalid_request_error" / "server_error"


def test_openai_timeout(server):
    server.push(Reply.hang(5))
    t0 = time.monotonic()
    with pytest.raises(openai.APITimeoutError):
        oai(server, timeout=0.5).chat.completions.create(model="m", messages=MESSAGES)
    assert time.monotonic() - t0 < 2.0


# --------------------------------------------------------------------------- Anthropic


def test_anthropic_forced_tool_use(server):
    server.push(Reply.json(PLAN, input_tokens=13, output_tokens=5))
    msg = ant_create(ant(server), tools=[PLAN_TOOL], tool_choice={"type": "tool", "name": "submit_plan"})

    assert msg.stop_reason == "tool_use"
    (block,) = msg.content
    assert isinstance(block, anthropic.types.ToolUseBlock)
    assert block.name == "submit_plan"
    assert block.input == PLAN
    assert block.id.startswith("toolu_")
    assert (msg.usage.input_tokens, msg.usage.output_tokens) == (13, 5)
    assert msg.model == "claude-test"

    (rec,) = server.requests
    assert rec.path == "/v1/messages"
    assert rec.body["model"] == "claude-test"
    assert rec.body["tool_choice"] == {"type": "tool", "name": "submit_plan"}
    assert rec.body["tools"][0]["input_schema"] == PLAN_SCHEMA
    # this SDK version sends the key as "authorization: Bearer"; older ones as "x-api-key"
    assert "sk-ant-test" in (rec.headers.get("x-api-key", ""), rec.headers.get("authorization", "").removeprefix("Bearer "))
    assert "anthropic-version" in rec.headers


def test_anthropic_json_without_tools_is_text(server):
    server.push(Reply.json(PLAN), Reply.text("plain"), Reply.truncated("cut her"))
    client = ant(server)
    m1, m2, m3 = (ant_create(client) for _ in range(3))
    assert isinstance(m1.content[0], anthropic.types.TextBlock)
    assert json.loads(m1.content[0].text) == PLAN and m1.stop_reason == "end_turn"
    assert (m2.content[0].text, m2.stop_reason) == ("plain", "end_turn")
    assert (m3.content[0].text, m3.stop_reason) == ("cut her", "max_tokens")


@pytest.mark.parametrize(
    "code, exc, etype",
    [
        (429, anthropic.RateLimitError, "rate_limit_error"),
        (401, anthropic.AuthenticationError, "authentication_error"),
        (500, anthropic.InternalServerError, "api_error"),
        (529, anthropic.InternalServerError, "overloaded_error"),
    ],
)
def test_anthropic_errors(server, code, exc, etype):
    server.push(Reply.status(code, message="boom", headers={"Retry-After": "1"}))
    with pytest.raises(exc) as ei:
        ant_create(ant(server))
    assert ei.value.status_code == code
    assert ei.value.response.headers["retry-after"] == "1"
    assert ei.value.body["type"] == "error"
    assert ei.value.body["error"] == {"type": etype, "message": "boom"}


def test_anthropic_timeout(server):
    server.push(Reply.hang(5))
    t0 = time.monotonic()
    with pytest.raises(anthropic.APITimeoutError):
        ant_create(ant(server, timeout=0.5))
    assert time.monotonic() - t0 < 2.0


# --------------------------------------------------------------------------- server behaviour


def test_empty_queue_fails_loudly(server):
    with pytest.raises(openai.InternalServerError, match="no reply queued"):
        oai(server).chat.completions.create(model="m", messages=MESSAGES)
    with pytest.raises(anthropic.InternalServerError, match="no reply queued"):
        ant_create(ant(server))


def test_default_callable_and_shared_fifo():
    seen = []

    def default(req: Recorded) -> Reply:
        seen.append(req.path)
        return Reply.text(f"default for {req.body['model']}")

    with FakeServer(default=default) as srv:
        srv.push(Reply.text("first"), Reply.text("second"))
        o, a = oai(srv), ant(srv)
        assert o.chat.completions.create(model="m1", messages=MESSAGES).choices[0].message.content == "first"
        assert ant_create(a).content[0].text == "second"
        assert ant_create(a).content[0].text == "default for claude-test"
        assert srv.queued == 0
    assert seen == ["/v1/messages"]
    assert [r.path for r in srv.requests] == ["/v1/chat/completions", "/v1/messages", "/v1/messages"]


def test_keep_alive_reuses_connection(server):
    server.push(*(Reply.text(str(i)) for i in range(5)))
    client = oai(server)
    for i in range(5):
        assert client.chat.completions.create(model="m", messages=MESSAGES).choices[0].message.content == str(i)
    assert len(server.requests) == 5
    assert len(server._conns) == 1  # one pooled HTTP/1.1 connection served all requests


def test_reply_delay(server):
    r = Reply.text("slow")
    r.delay = 0.2
    server.push(r)
    t0 = time.monotonic()
    assert ant_create(ant(server)).content[0].text == "slow"
    assert time.monotonic() - t0 >= 0.2


def test_latency_does_not_serialize_concurrent_requests():
    n, latency = 4, 0.3
    with FakeServer(default=lambda req: Reply.json(PLAN)) as srv:
        o, a = oai(srv), ant(srv)
        # warm up lazy imports / connection setup outside the timed section
        o.chat.completions.create(model="m", messages=MESSAGES)
        ant_create(a)
        srv.latency = latency

        def call(i: int):
            if i % 2:
                return ant_create(a, tools=[PLAN_TOOL], tool_choice={"type": "tool", "name": "submit_plan"}).content[0].input
            return json.loads(o.chat.completions.create(model="m", messages=MESSAGES).choices[0].message.content)

        with ThreadPoolExecutor(n) as ex:
            results = list(ex.map(call, range(n)))
    assert results == [PLAN] * n
    assert srv.most_in_flight >= 2  # requests were answered side by side, not one after another


def test_async_clients_concurrent():
    n, latency = 4, 0.3

    async def main(srv: FakeServer):
        o = openai.AsyncOpenAI(api_key="k", base_url=srv.openai_base_url, max_retries=0)
        a = anthropic.AsyncAnthropic(api_key="k", base_url=srv.anthropic_base_url, max_retries=0)
        kw = dict(model="m", max_tokens=64, messages=MESSAGES, tools=[PLAN_TOOL])
        calls = [a.messages.create(**kw) if i % 2 else o.chat.completions.create(model="m", messages=MESSAGES) for i in range(n)]
        out = await asyncio.gather(*calls)
        await o.close()
        await a.close()
        return out

    with FakeServer(default=lambda req: Reply.json(PLAN), latency=latency) as srv:
        out = asyncio.run(main(srv))
    assert json.loads(out[0].choices[0].message.content) == PLAN
    assert out[1].content[0].input == PLAN  # tools without tool_choice: first tool is used
    assert srv.most_in_flight >= 2  # answered side by side


def test_hang_does_not_block_shutdown():
    srv = FakeServer().start()
    srv.push(Reply.hang(30))
    with pytest.raises(openai.APITimeoutError):
        oai(srv, timeout=0.2).chat.completions.create(model="m", messages=MESSAGES)
    t0 = time.monotonic()
    srv.stop()
    assert time.monotonic() - t0 < 1.0
