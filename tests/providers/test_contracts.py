"""Every request body planner builds is one the providers' published contracts allow: OpenAI's OpenAPI
component schemas (tests/data/contracts, vendored with their commit) and the anthropic SDK's request
types. The fake servers check every request they receive and every answer they give the same way
(tests/fakeserver.py); these tests cover the bodies no server receives and show the checks can fail."""

from __future__ import annotations

import json
from dataclasses import replace

import contracts
import pytest
from fakeserver import FakeServer, Reply

from planner.cli.main import main
from planner.core.messages import Reply as ModelReply
from planner.papers.library import load_paper
from planner.providers import anthropic_messages, openai_chat
from planner.providers.anthropic_batch import AnthropicBatch
from planner.providers.openai_batch import OpenAILines
from planner.registry import KNOWN, resolve
from planner.run.task import PlanOptions, conversation

SPECS = [*KNOWN.values(), resolve("compatible:qwen2.5-7b"), resolve("claude-fable-5-2")]


def _requests(spec):
    """The first turn and a repair turn of a plan conversation in every output mode the model may use."""
    conv = conversation(load_paper("simsiam"), spec, PlanOptions(temperature=0.3, seed=5))
    first = conv.request()
    repair = conv.on_reply(ModelReply(text="{}", input_tokens=1, output_tokens=1)).request
    for mode in spec.modes:
        yield replace(first, mode=mode)
        yield replace(repair, mode=mode)


@pytest.mark.parametrize("spec", SPECS, ids=[s.name for s in SPECS])
def test_every_request_body_is_within_the_contract(spec):
    for request in _requests(spec):
        if spec.provider == "anthropic":
            body = anthropic_messages.wire_body(spec, request)
            contracts.anthropic_request(body)
            contracts.anthropic_batch_create({"requests": [AnthropicBatch.entry(None, "r1", spec, request)]})
        else:
            contracts.openai_request(openai_chat.wire_body(spec, request))
            contracts.openai_batch_line(OpenAILines().entry("r1", spec, request))


def test_vllm_batch_file_lines_are_openai_batch_lines(tmp_path):
    emitted = tmp_path / "round1.jsonl"
    assert main(["batch", "--papers", "simsiam,smm", "--models", "compatible:qwen2.5-7b", "--via", "batch-file",
                 "--emit", str(emitted), "--out", str(tmp_path / "out")]) == 0
    lines = [json.loads(x) for x in emitted.read_text(encoding="utf-8").splitlines()]
    assert len(lines) == 2
    for line in lines:
        contracts.openai_batch_line(line)


@pytest.mark.parametrize(("check", "body"), [
    (contracts.openai_request, {"model": "gpt-4o", "messages": [], "temperature": 5}),
    (contracts.openai_request, {"model": "gpt-4o", "messages": [], "reasoning_effort": "enormous"}),
    (contracts.openai_batch_line, {"custom_id": "r", "method": "GET", "url": "/v1/chat/completions", "body": {}}),
    (contracts.anthropic_request, {"model": "m", "max_tokens": 10, "messages": [], "seed": 3}),
    (contracts.anthropic_request, {"model": "m", "max_tokens": 10, "messages": [],
                                   "tool_choice": {"type": "tool", "name": "t", "parallel": False}}),
    (contracts.anthropic_message, {"id": "m", "type": "message", "role": "assistant", "model": "m", "content": [],
                                   "stop_reason": "because", "stop_sequence": None,
                                   "usage": {"input_tokens": 1, "output_tokens": 1}}),
    (contracts.openai_response, {"id": "c", "object": "chat.completion", "created": 1, "model": "m",
                                 "choices": [{"index": 0, "message": {"role": "assistant", "content": "x",
                                              "refusal": None}, "finish_reason": "done", "logprobs": None}]}),
], ids=["temperature", "effort", "method", "anthropic-seed", "tool-choice-key", "stop-reason", "finish-reason"])
def test_the_contract_checks_refuse_what_the_contracts_refuse(check, body):
    with pytest.raises((AssertionError, Exception)):
        check(body)


def test_a_fake_answer_outside_the_contract_fails_the_test_that_served_it():
    server = FakeServer()
    with pytest.raises(AssertionError, match="outside the providers' contracts"):
        with server:
            server.push(Reply.answer({"choices": [{"index": 0, "message": {"role": "assistant", "content": "x"},
                                                   "finish_reason": "finished", "logprobs": None}]}))
            import urllib.request

            request = urllib.request.Request(server.openai_base_url + "/chat/completions", method="POST",
                                             data=json.dumps({"model": "gpt-4o", "messages": []}).encode(),
                                             headers={"Content-Type": "application/json"})
            urllib.request.urlopen(request).read()
