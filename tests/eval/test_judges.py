"""LM judges as a use of the planning core: shuffled sides mapped back, validation and repair,
no temperature for reasoning models, the majority vote."""

from __future__ import annotations

import json
import re

import pytest
from conftest import SECRET
from fakeserver import Reply

from planner.core.conversation import Done, Failed
from planner.core.messages import Reply as WireReply
from planner.core.schema import Ablation
from planner.eval.judges import judge_conversation, majority
from planner.providers.factory import make_provider
from planner.providers.retry import RetryPolicy
from planner.registry import resolve
from planner.run.cache import ResponseCache
from planner.run.sync import Asker, converse


def _abl(name: str) -> Ablation:
    return Ablation(name=name, ablated_part=name, action="REMOVE", metrics=["m"])


def _answer_matching_names(request) -> Reply:
    """A judge model that matches items with equal names, whichever side the plan is on."""
    text = request.body["messages"][-1]["content"]
    a = re.findall(r"^A(\d+)\. (.*)$", text, re.MULTILINE)
    b = re.findall(r"^B(\d+)\. (.*)$", text, re.MULTILINE)
    pairs = [{"a": int(i), "b": int(j)} for i, x in a for j, y in b if json.loads(x)["name"] == json.loads(y)["name"]]
    return Reply.json({"reasoning": "same names", "matches": pairs})


def _judge(model: str, paper: str, plan, truth, cache: ResponseCache, max_repairs: int = 2):
    spec = resolve(model)
    conv, sides = judge_conversation(spec, paper, plan, truth, max_repairs=max_repairs)
    decision = converse(conv, Asker(make_provider(spec, None, 5), cache, RetryPolicy(attempts=2, initial=0.01), "t"))
    return (sides.back(decision.value) if isinstance(decision, Done) else decision), conv


@pytest.mark.parametrize("model", ["gpt-4o", "claude-3.5-sonnet"])
def test_lm_judge_maps_shuffled_sides_back(provider_env, model, tmp_path):
    provider_env.default = _answer_matching_names
    plan = [_abl(n) for n in ("alpha", "beta", "gamma", "delta", "eps")]
    truth = [_abl(n) for n in ("x", "gamma", "y", "alpha")]
    cache = ResponseCache(tmp_path / "c")
    sides_seen = set()
    for paper in ("p1", "p2", "p3", "p4", "p5", "p6"):  # different papers shuffle differently
        matches, conv = _judge(model, paper, plan, truth, cache)
        assert matches == {(0, 3), (2, 1)}
        sides_seen.add('"beta"' in conv.request().messages[0][1].split("List B:")[0])  # is the plan list A?
    assert sides_seen == {True, False}
    body = provider_env.requests[0].body
    shown = json.dumps(body)
    assert "ground truth" not in shown.lower() and "plan" not in body["messages"][-1]["content"].lower()
    sent = len(provider_env.requests)
    _judge(model, "p1", plan, truth, cache)
    assert len(provider_env.requests) == sent  # the cache answered the identical request


@pytest.mark.parametrize(
    "bad, expected",
    [
        (Reply.text("They all match, obviously."), "not valid JSON"),
        (Reply.json({"reasoning": "x", "matches": "all"}), "matches"),
        (Reply.json({"reasoning": "x", "matches": [{"a": 9, "b": 1}]}), "a is 9, but list A has items 1 to 2"),
        (Reply.json([1, 2, 3]), 'one JSON object'),
    ],
)
def test_a_bad_judge_answer_gets_a_repair_turn_naming_the_problem(provider_env, tmp_path, bad, expected):
    provider_env.push(bad, Reply.json({"reasoning": "ok", "matches": [{"a": 1, "b": 1}]}))
    matches, conv = _judge("gpt-4o", "p", [_abl("a"), _abl("b")], [_abl("a")], ResponseCache(tmp_path / "c"))
    assert len(matches) == 1 and conv.repairs == 1
    repair = provider_env.requests[1].body["messages"][-1]["content"]
    assert expected in repair and provider_env.requests[1].body["messages"][-2]["role"] == "assistant"


def test_a_judge_that_never_answers_usably_fails_and_its_answers_are_forgotten(provider_env, tmp_path):
    provider_env.push(*[Reply.json({"matches": None})] * 3)
    cache = ResponseCache(tmp_path / "c")
    outcome, conv = _judge("claude-3.5-sonnet", "p", [_abl("a")], [_abl("a")], cache, max_repairs=2)
    assert isinstance(outcome, Failed) and len(provider_env.requests) == 3 and conv.repairs == 2
    assert not list((tmp_path / "c").rglob("*.json"))  # a rerun asks again instead of failing for free


def test_reasoning_models_judge_without_temperature(provider_env, tmp_path):
    provider_env.default = lambda r: Reply.json({"reasoning": "none", "matches": []})
    for model, temperature in (("gpt-4o", 0.0), ("gpt-5", None), ("o3-mini", None)):
        _judge(model, "p", [_abl("a")], [_abl("b")], ResponseCache(None))
        body = provider_env.requests[-1].body
        assert body.get("temperature") == temperature and ("temperature" in body) == (temperature is not None)


def test_majority_vote_needs_more_than_half():
    assert majority([{(0, 0), (1, 1)}, {(0, 0)}, {(1, 1), (2, 2)}]) == {(0, 0), (1, 1)}
    assert majority([{(0, 0)}, set()]) == set()


def test_judge_validation_without_a_server():
    conv, _ = judge_conversation(resolve("gpt-4o"), "p", [_abl("a")], [_abl("b"), _abl("c")])
    verdict = conv.task.validate(WireReply(text='{"reasoning": "r", "matches": [{"a": 1, "b": 3}, {"a": 0, "b": 1}]}'))
    assert verdict.value is None and len(verdict.errors) == 2
    assert SECRET not in " ".join(verdict.errors)


def test_the_judge_cannot_tell_the_plan_from_the_paper():
    """As AblationBench's judge does: both lists shuffled, the sides drawn at random, and nothing in the
    request says which list is the paper's and which the plan's."""
    plan = [Ablation(name=f"plan item {k}", ablated_part=f"part {k}", action="REMOVE", metrics=["m"]) for k in range(5)]
    truth = [Ablation(name=f"reported {k}", ablated_part=f"piece {k}", action="REMOVE", metrics=["m"]) for k in range(6)]
    plan_first, reordered = 0, 0
    for n in range(200):
        conv, sides = judge_conversation(resolve("gpt-4o"), f"paper-{n}", plan, truth)
        plan_first += sides.plan_is_a
        reordered += sides.plan_order != list(range(5)) and sides.truth_order != list(range(6))
        request = conv.request()
        words = " ".join(text for _, text in request.messages).lower()
        listed = words.split("list a:")[1]
        assert all(w not in words for w in ("ground truth", "the plan", "planned", "reported by", "proposed"))
        shown_a = "plan item" in listed.split("list b:")[0]
        assert shown_a == sides.plan_is_a  # the mapping back follows what was shown
    assert 70 <= plan_first <= 130 and reordered >= 190
    again, _ = judge_conversation(resolve("gpt-4o"), "paper-1", plan, truth)
    assert again.request().messages == judge_conversation(resolve("gpt-4o"), "paper-1", plan, truth)[0].request().messages
