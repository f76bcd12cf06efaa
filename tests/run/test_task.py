"""The planner against a local server through the real SDKs: faults, repairs, fallbacks, strict plans."""

from __future__ import annotations

import json
import time

import pytest
from conftest import SECRET, plan_obj
from fakeserver import Reply

from planner.core.conversation import Done, Failed
from planner.papers.library import load_paper
from planner.providers.base import PermanentError
from planner.providers.factory import make_provider
from planner.providers.retry import GaveUp, RetryPolicy
from planner.registry import resolve
from planner.run.cache import ResponseCache
from planner.run.sync import Asker, converse
from planner.run.task import PlanOptions, conversation

FAST = RetryPolicy(attempts=4, initial=0.05, max_wait=5)


def plan(model: str, opts: PlanOptions | None = None, cache: ResponseCache | None = None):
    opts = opts or PlanOptions(retry=FAST, timeout=2)
    spec = resolve(model)
    conv = conversation(load_paper("simsiam"), spec, opts)
    provider = make_provider(spec, opts.base_url, opts.timeout)
    return converse(conv, Asker(provider, cache or ResponseCache(None), opts.retry, f"{model} on simsiam")), conv


@pytest.mark.parametrize("model", ["gpt-4o", "claude-3.5-sonnet", "gemini-2.5-flash"])
def test_valid_plan_first_time(provider_env, model):
    provider_env.push(Reply.json(plan_obj(5), input_tokens=1000, output_tokens=200))
    decision, conv = plan(model)
    assert isinstance(decision, Done) and len(decision.value.ablations) == 5
    assert (conv.tally.attempts, conv.repairs) == (1, 0)
    assert (conv.tally.input_tokens, conv.tally.output_tokens) == (1000, 200)
    assert len(provider_env.requests) == 1


def test_429_honours_retry_after(provider_env):
    provider_env.push(Reply.status(429, "slow down", headers={"Retry-After": "1"}), Reply.json(plan_obj()))
    started = time.monotonic()
    _, conv = plan("gpt-4o")
    assert time.monotonic() - started >= 0.95
    assert conv.tally.attempts == 2


def test_500_and_hang_are_survived(provider_env):
    provider_env.push(Reply.status(500), Reply.hang(10), Reply.json(plan_obj()))
    decision, conv = plan("claude-3.5-sonnet", PlanOptions(retry=FAST, timeout=0.5))
    assert isinstance(decision, Done) and conv.tally.attempts == 3
    assert len(provider_env.requests) == 3


def test_persistent_503_gives_up_after_bounded_attempts(provider_env):
    provider_env.push(*[Reply.status(503)] * 4)
    with pytest.raises(GaveUp) as err:
        plan("gpt-4o")
    assert "HTTP 503" in str(err.value) and "gave up after 4 attempts" in str(err.value)
    assert len(provider_env.requests) == 4 and err.value.attempts == 4


def test_401_fails_at_once_without_the_key(provider_env):
    provider_env.push(Reply.status(401, f"Incorrect API key provided: {SECRET}"))
    with pytest.raises(PermanentError) as err:
        plan("gpt-4o")
    assert "HTTP 401" in str(err.value) and "API key was refused" in str(err.value)
    assert SECRET not in str(err.value) and SECRET[:12] not in str(err.value)
    assert len(provider_env.requests) == 1


@pytest.mark.parametrize(
    "bad, expected",
    [
        (Reply.truncated('{"reasoning": "x", "ablations": [{"name": '), "cut off at the token limit"),
        (Reply.json(plan_obj(3)), "expected exactly 5 ablations, got 3"),
        (Reply.json(plan_obj(5, action="DELETE")), "action 'DELETE' is not one of REMOVE, REPLACE, ADD"),
        (Reply.json(plan_obj(5, action="REPLACE")), "REPLACE needs at least one replacement"),
        (Reply.json(plan_obj(5, metrics=[])), "metrics: List should have at least 1 item"),
        (Reply.json(plan_obj(5, name="Ablation 2")), "is used twice"),
        (Reply.json(plan_obj(5, name="two\nlines")), "name: contains a line break"),
        (Reply.json(plan_obj(5, metrics=["FID, lower is better"])), "contains ', '"),
    ],
)
def test_invalid_answer_gets_a_repair_turn_naming_the_error(provider_env, bad, expected):
    provider_env.push(bad, Reply.json(plan_obj()))
    decision, conv = plan("gpt-4o")
    assert isinstance(decision, Done) and conv.repairs == 1 and len(decision.value.ablations) == 5
    repair = provider_env.requests[1].body["messages"][-1]["content"]
    assert expected in repair
    assert provider_env.requests[1].body["messages"][-2]["role"] == "assistant"


def test_still_invalid_after_repairs_fails_with_errors(provider_env, tmp_path):
    provider_env.push(*[Reply.json(plan_obj(4))] * 3)
    cache = ResponseCache(tmp_path / "cache")
    decision, conv = plan("claude-3.5-sonnet", cache=cache)
    assert isinstance(decision, Failed) and decision.errors == ["expected exactly 5 ablations, got 4"]
    assert conv.repairs == 2 and len(provider_env.requests) == 3 and conv.tally.output_tokens == 150
    assert not list((tmp_path / "cache").rglob("*.json"))  # the next run asks afresh


def test_reviewer_task_asks_for_two_and_shows_the_reported_ablations(provider_env):
    provider_env.push(Reply.json(plan_obj(2)))
    decision, _ = plan("gpt-4o", PlanOptions(task="reviewer", retry=FAST))
    assert isinstance(decision, Done) and len(decision.value.ablations) == 2
    body = provider_env.requests[0].body
    schema = body["response_format"]["json_schema"]["schema"]
    assert "exactly 2 ablations" in schema["properties"]["ablations"]["description"]
    user = body["messages"][1]["content"]
    assert "<reported_ablations>" in user and "Remove stop-gradient" in user


def test_compatible_endpoint_without_json_schema_falls_back_to_tagged(provider_env):
    tagged = (
        "Sure! Here it is.\n<discussion>\nThe predictor matters most.\n</discussion>\n<predictions>\n```json\n"
        + "\n".join(json.dumps(a) + "," for a in plan_obj(5)["ablations"]).replace('"top-1', "\u201ctop-1")
        .replace('accuracy"', "accuracy\u201d")
        + "\n```\n</predictions>"
    )
    provider_env.push(Reply.status(400, "response_format json_schema is not supported"),
                      Reply.status(422, "response_format json_object is not supported"), Reply.text(tagged))
    decision, conv = plan("compatible:local-model", PlanOptions(retry=FAST, base_url=provider_env.openai_base_url))
    assert decision.value.reasoning == "The predictor matters most."
    assert [a.metrics for a in decision.value.ablations] == [["top-1 accuracy"]] * 5
    assert provider_env.requests[1].body["response_format"]["type"] == "json_object"
    assert "response_format" not in provider_env.requests[2].body
    assert "<predictions>" in provider_env.requests[2].body["messages"][0]["content"]
    assert conv.notes == ["the endpoint refused json_schema output; trying json_object",
                          "the endpoint refused json_object output; trying tagged"]


def test_llama_cpp_style_500_refusal_falls_back_to_json_object_with_schema(provider_env):
    provider_env.push(Reply.status(500, "literal_error: response_format.type json_schema"),
                      Reply.text(json.dumps(plan_obj(5))))
    decision, _ = plan("compatible:smollm2", PlanOptions(retry=FAST, base_url=provider_env.openai_base_url))
    assert isinstance(decision, Done) and len(provider_env.requests) == 2
    fmt = provider_env.requests[1].body["response_format"]
    assert fmt["type"] == "json_object" and fmt["schema"]["properties"]["ablations"]["minItems"] == 5


def test_retry_lines_name_their_job(provider_env, caplog):
    provider_env.push(Reply.status(503, "busy"), Reply.json(plan_obj()))
    plan("claude-3.5-sonnet")
    retries = [r.getMessage() for r in caplog.records if "retrying in" in r.getMessage()]
    assert retries and retries[0].startswith("claude-3.5-sonnet on simsiam: retrying in")
