"""Every answer shape the providers' contracts allow, handled on purpose, through the real CLI and SDKs.

Each answer is the contract's exact shape (the fake server checks it against OpenAI's OpenAPI schema
or the anthropic SDK's Message type before sending it): refusals, content filters, a reasoning budget
spent before any answer, a context overflow, thinking blocks, several tool calls, cached-token usage
and no usage at all.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import plan_obj
from fakeserver import Reply

from planner.cli.main import main

NO_LOGPROBS = {"logprobs": None}


def _openai(message: dict, finish: str, usage: dict | None) -> Reply:
    body = {"choices": [{"index": 0, "message": {"role": "assistant", "refusal": None, **message},
                         "finish_reason": finish, **NO_LOGPROBS}]}
    return Reply.answer({**body, "usage": usage} if usage is not None else body)


def _usage(prompt: int, completion: int, cached: int = 0, reasoning: int = 0) -> dict:
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion,
            "prompt_tokens_details": {"cached_tokens": cached},
            "completion_tokens_details": {"reasoning_tokens": reasoning}}


def _anthropic(content: list, stop: str, usage: dict | None = None, **extra) -> Reply:
    usage = usage or {"input_tokens": 1200, "output_tokens": 40}
    return Reply.answer({"content": content, "stop_reason": stop, "usage": usage, **extra})


def _run(out: Path, model: str, *extra: str) -> int:
    return main(["run", "--paper", "simsiam", "--model", model, "--out", str(out), *extra])


def _failure(out: Path) -> dict:
    lines = (out / "failures.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1
    return json.loads(lines[0])


def _stored(out: Path, model: str) -> dict:
    return json.loads((out / "lm-planner" / model.replace(".", "") / "simsiam.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize(("model", "answer", "words"), [
    ("gpt-4o", _openai({"content": None, "refusal": "I can't help with that request."}, "stop", _usage(900, 12)),
     ["refused: \"I can't help with that request.\"", "no repair turn"]),
    ("gpt-4o", _openai({"content": None}, "content_filter", _usage(900, 3)), ["content filter", "content_filter"]),
    ("o3-mini", _openai({"content": None}, "length", _usage(900, 32_000, reasoning=32_000)),
     ["whole output budget of 32,000 tokens", "32,000 of them on reasoning", "--max-tokens"]),
    ("claude-sonnet-4.6", _anthropic([], "refusal", stop_details={
        "type": "refusal", "category": "cyber", "explanation": "This request asks for harmful code."}),
     ["refused: 'This request asks for harmful code. / cyber'", "no repair turn"]),
    ("claude-sonnet-4.6", _anthropic([], "model_context_window_exceeded"), ["context window", "--context-window"]),
    ("claude-sonnet-5", _anthropic([{"type": "thinking", "thinking": "Let me think...", "signature": "sig"}],
                                   "max_tokens", {"input_tokens": 1200, "output_tokens": 32_000}),
     ["whole output budget of 32,000 tokens", "--max-tokens"]),
], ids=["openai-refusal", "openai-content-filter", "openai-reasoning-budget", "anthropic-refusal",
        "anthropic-context-window", "anthropic-thinking-budget"])
def test_a_final_answer_ends_the_job_after_one_paid_request(provider_env, tmp_path, capsys, model, answer, words):
    """No repair turn (it would be billed and cannot help): one line quoting the reason, exit 1, and a
    failures.jsonl record with the tokens and cost of the one answer."""
    provider_env.push(answer, Reply.json(plan_obj(5)), Reply.json(plan_obj(5)))
    out = tmp_path / "out"
    assert _run(out, model) == 1
    err = capsys.readouterr().err
    line = next(x for x in err.splitlines() if "FAILED" in x)
    assert all(w in line for w in words), line
    assert "no valid plan after" not in line and len(provider_env.requests) == 1
    record = _failure(out)
    prov = record["provenance"]
    assert prov["input_tokens"] >= 900 and prov["output_tokens"] > 0 and prov["cost_usd"] > 0 and prov["repairs"] == 0


def test_thinking_and_redacted_thinking_before_the_tool_call_keep_working(provider_env, tmp_path):
    answer = _anthropic([{"type": "thinking", "thinking": "Plan the ablations.", "signature": "sig"},
                         {"type": "redacted_thinking", "data": "opaque"},
                         {"type": "tool_use", "id": "toolu_1", "name": "submit_ablation_plan", "input": plan_obj(5)}],
                        "tool_use")
    provider_env.push(answer)
    assert _run(tmp_path / "out", "claude-3.5-sonnet") == 0 and len(provider_env.requests) == 1


def test_thinking_before_json_output_keeps_working(provider_env, tmp_path):
    """Claude Sonnet 5 answers under output_config.format: thinking blocks, then the JSON as text."""
    answer = _anthropic([{"type": "thinking", "thinking": "Plan.", "signature": "sig"},
                         {"type": "text", "text": json.dumps(plan_obj(5))}], "end_turn",
                        {"input_tokens": 1200, "output_tokens": 800, "output_tokens_details": {"thinking_tokens": 500}})
    provider_env.push(answer)
    assert _run(tmp_path / "out", "claude-sonnet-5", "--temperature", "0.2") == 0
    body = provider_env.requests[0].body
    assert "temperature" not in body and body["output_config"]["format"]["type"] == "json_schema"
    assert "tools" not in body and "tool_choice" not in body
    assert _stored(tmp_path / "out", "claude-sonnet-5")["provenance"]["reasoning_tokens"] == 500


def test_several_tool_calls_never_mean_take_the_first_silently(provider_env, tmp_path):
    """The first call holds 4 ablations, the second a valid plan: the valid one is used, in one request,
    and the card's provenance says the answer held two."""
    first = plan_obj(4)
    answer = _anthropic([{"type": "tool_use", "id": "toolu_1", "name": "submit_ablation_plan", "input": first},
                         {"type": "tool_use", "id": "toolu_2", "name": "submit_ablation_plan", "input": plan_obj(5)}],
                        "tool_use")
    provider_env.push(answer)
    assert _run(tmp_path / "out", "claude-3.5-sonnet") == 0 and len(provider_env.requests) == 1
    warnings = _stored(tmp_path / "out", "claude-3.5-sonnet")["provenance"]["warnings"]
    assert any("held 2 structured answers" in w and "answer 2" in w for w in warnings)


def test_several_invalid_tool_calls_are_repaired_as_such(provider_env, tmp_path):
    bad = {"type": "tool_use", "name": "submit_ablation_plan", "input": plan_obj(3)}
    provider_env.push(_anthropic([{**bad, "id": "toolu_1"}, {**bad, "id": "toolu_2"}], "tool_use"),
                      Reply.json(plan_obj(5)))
    assert _run(tmp_path / "out", "claude-3.5-sonnet") == 0
    repair = provider_env.requests[1].body["messages"][-1]["content"]
    assert "give exactly one answer (this one held 2, none valid)" in repair


def test_cached_input_tokens_are_priced_at_their_own_rate(provider_env, tmp_path):
    """gpt-4o: 10,000 prompt tokens of which 6,000 cached ($1.25/M instead of $2.50/M), 1,000 out ($10/M)."""
    provider_env.push(_openai({"content": json.dumps(plan_obj(5))}, "stop", _usage(10_000, 1_000, cached=6_000)))
    assert _run(tmp_path / "out", "gpt-4o") == 0
    prov = _stored(tmp_path / "out", "gpt-4o")["provenance"]
    assert prov["cache_read_tokens"] == 6_000
    assert prov["cost_usd"] == pytest.approx((4_000 * 2.5 + 6_000 * 1.25 + 1_000 * 10) / 1e6)


def test_anthropic_cache_reads_and_writes_are_counted_and_priced(provider_env, tmp_path):
    """Anthropic counts cache tokens apart from input_tokens: 500 + 2,000 written ($3.75/M) + 6,000 read
    ($0.30/M) on claude-sonnet-4.6 ($3/M in, $15/M out)."""
    usage = {"input_tokens": 500, "cache_creation_input_tokens": 2_000, "cache_read_input_tokens": 6_000,
             "output_tokens": 1_000}
    provider_env.push(_anthropic([{"type": "text", "text": json.dumps(plan_obj(5))}], "end_turn", usage))
    assert _run(tmp_path / "out", "claude-sonnet-4.6") == 0
    prov = _stored(tmp_path / "out", "claude-sonnet-4.6")["provenance"]
    assert (prov["input_tokens"], prov["cache_read_tokens"], prov["cache_write_tokens"]) == (8_500, 6_000, 2_000)
    assert prov["cost_usd"] == pytest.approx((500 * 3 + 2_000 * 3.75 + 6_000 * 0.3 + 1_000 * 15) / 1e6)


def test_an_answer_without_usage_has_an_unknown_cost_never_zero(provider_env, tmp_path, capsys):
    provider_env.push(_openai({"content": json.dumps(plan_obj(5))}, "stop", None))
    assert _run(tmp_path / "out", "gpt-4o") == 0
    assert _stored(tmp_path / "out", "gpt-4o")["provenance"]["cost_usd"] is None
    assert "cost unknown" in capsys.readouterr().out


def test_a_structured_output_refusal_falls_back_to_a_strict_forced_tool(provider_env, tmp_path):
    """Claude Opus 4.6 asks for JSON output first; an endpoint that refuses output_config gets the plan
    schema as one strict tool, forced with disable_parallel_tool_use."""
    provider_env.push(Reply.status(400, "output_config.format: structured outputs are not supported"),
                      Reply.json(plan_obj(5)))
    assert _run(tmp_path / "out", "claude-opus-4.6") == 0
    first, second = (r.body for r in provider_env.requests)
    assert "output_config" in first and "tools" not in first
    assert second["tools"][0]["strict"] is True and "output_config" not in second
    assert second["tool_choice"] == {"type": "tool", "name": "submit_ablation_plan", "disable_parallel_tool_use": True}


def test_the_strict_schema_prevents_a_wrong_count(provider_env, tmp_path):
    provider_env.push(Reply.json(plan_obj(5)))
    assert _run(tmp_path / "out", "gpt-4o") == 0
    schema = provider_env.requests[0].body["response_format"]["json_schema"]["schema"]
    assert (schema["properties"]["ablations"]["minItems"], schema["properties"]["ablations"]["maxItems"]) == (5, 5)


def test_seed_is_best_effort_and_reasoning_models_get_a_reasoning_budget(provider_env, tmp_path, capsys):
    provider_env.push(Reply.json(plan_obj(5)), Reply.json(plan_obj(5)))
    assert _run(tmp_path / "a", "o3-mini", "--seed", "7") == 0
    assert _run(tmp_path / "b", "claude-3.5-sonnet", "--seed", "7") == 0
    err = capsys.readouterr().err
    assert "marks seed as deprecated" in err and "takes no seed" in err
    openai_body, anthropic_body = (r.body for r in provider_env.requests)
    assert openai_body["seed"] == 7 and openai_body["max_completion_tokens"] == 32_000
    assert "seed" not in anthropic_body and anthropic_body["max_tokens"] == 4_096
