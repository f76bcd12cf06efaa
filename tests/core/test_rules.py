"""The plan rules: one strict model, the JSON schemas derived from it, and the validator agree."""

from __future__ import annotations

import json

import jsonschema
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planner.core import rules
from planner.core.schema import Ablation, Plan
from planner.providers.openai_chat import strict_schema


def test_the_full_schema_carries_the_size_limits():
    schema = rules.schema(3)
    ablations = schema["properties"]["ablations"]
    assert (ablations["minItems"], ablations["maxItems"]) == (3, 3)
    assert ablations["items"]["properties"]["metrics"]["minItems"] == 1
    assert ablations["items"]["properties"]["action"]["enum"] == ["REMOVE", "REPLACE", "ADD"]


_word = st.sampled_from(["a", "b", "FID", "top-1", "x y", "", " ", "a, b", "two\nlines", "\u2028", "REMOVE",
                         "REPLACE", "ADD", "remove", "DELETE"])
_value = st.one_of(_word, st.integers(-2, 2), st.none(), st.lists(_word, max_size=3))
_ablation = st.one_of(
    st.fixed_dictionaries({"name": _word, "ablated_part": _word, "action": _word,
                           "replacement": st.lists(_word, max_size=2), "metrics": st.lists(_word, max_size=2)}),
    st.dictionaries(st.sampled_from(["name", "ablated_part", "action", "replacement", "metrics", "extra"]), _value),
)
_candidate = st.one_of(
    st.fixed_dictionaries({"reasoning": _word, "ablations": st.lists(_ablation, min_size=0, max_size=4)}),
    st.dictionaries(st.sampled_from(["reasoning", "ablations", "other"]), _value),
    st.lists(_ablation, max_size=2),
)


@settings(max_examples=600, suppress_health_check=[HealthCheck.too_slow])
@given(_candidate, st.integers(1, 3))
def test_schema_and_validator_agree(data, count):
    """Whatever the validator accepts, both schemas accept (ours and OpenAI's strict cut of it); whatever the full schema refuses, the validator
    refuses (the validator adds rules a schema cannot say: single lines, ', ' in metrics, unique names)."""
    plan, errors = rules.validate(data, count)
    full = jsonschema.Draft202012Validator(rules.schema(count)).is_valid(data)
    strict = jsonschema.Draft202012Validator(strict_schema(rules.schema(count))).is_valid(data)
    if plan is not None:
        assert full and strict and errors == []
    else:
        assert errors
    if not full:
        assert plan is None
    if not strict:
        assert plan is None


def test_repair_messages_name_the_place_and_the_fix():
    ab = {"name": "Gate", "ablated_part": "gate", "action": "REMOVE", "replacement": [], "metrics": ["acc"]}
    data = {"reasoning": "r", "ablations": [ab, {**ab, "name": "gate"}, {**ab, "name": "N", "metrics": ["a, b"]}]}
    _, errors = rules.validate(data, 2)
    assert "expected exactly 2 ablations, got 3" in errors
    assert any(e.startswith("ablation 3 (N) metrics[1]: contains ', '") for e in errors)
    _, errors = rules.validate({"reasoning": "r", "ablations": [ab, {**ab, "name": "gate"}]}, 2)
    assert errors == ["ablation 2: name 'gate' is used twice (ablations 1 and 2); names must be unique"]


def test_normalise_turns_box_breaking_reasoning_into_text_and_says_so():
    plan = Plan(reasoning="a\r\nb\rc\n</div>\n<DIV class=x>\n<!-- hidden", ablations=[])
    safe, warnings = rules.normalise(plan)
    assert safe.reasoning == "a\nb\nc\n&lt;/div>\n&lt;DIV class=x>\n&lt;!-- hidden"
    assert len(warnings) == 2
    assert rules.normalise(safe) == (safe, [])


def test_card_errors_name_what_a_card_cannot_say():
    bad = Plan(reasoning="r\rx", ablations=[Ablation(name="a\nb", ablated_part="p", action="REMOVE",
                                                      metrics=["x, y"])])
    assert rules.card_errors(bad) == ["ablation 1 name contains a line break",
                                      "ablation 1 metrics cannot be written unambiguously",
                                      "reasoning contains a carriage return"]
    assert json.dumps(rules.check(bad))  # the warnings an imported card would carry
