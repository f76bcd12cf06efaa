"""Each provider's dialect of the one plan schema: OpenAI's strict subset and Anthropic's, both checked
against the SDKs' own helpers for the same pydantic models."""

from __future__ import annotations

import anthropic
import jsonschema
import pytest
from openai.lib._pydantic import to_strict_json_schema

from planner.core import rules
from planner.eval.judges import JUDGE_SCHEMA, JudgeAnswer
from planner.providers.anthropic_messages import anthropic_schema
from planner.providers.openai_chat import STRICT_KEYWORDS, strict_schema


def _walk(node, path=""):
    if isinstance(node, dict):
        yield path, node
        for key, value in node.items():
            if key == "properties":
                for name, sub in value.items():
                    yield from _walk(sub, f"{path}.{name}")
            else:
                yield from _walk(value, f"{path}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _walk(value, f"{path}[{i}]")


def _without(node, keyword):
    if isinstance(node, dict):
        return {k: _without(v, keyword) for k, v in node.items() if k != keyword}
    if isinstance(node, list):
        return [_without(v, keyword) for v in node]
    return node


@pytest.mark.parametrize("schema", [rules.schema(5), JUDGE_SCHEMA], ids=["plan", "judge"])
def test_openai_strict_schemas_stay_inside_the_strict_subset(schema):
    strict = strict_schema(schema)
    for where, node in _walk(strict):
        assert set(node) <= STRICT_KEYWORDS, f"{where}: {set(node) - STRICT_KEYWORDS}"
        if node.get("type") == "object":
            assert node["additionalProperties"] is False and node["required"] == list(node["properties"]), where
    jsonschema.Draft202012Validator.check_schema(strict)


def test_the_strict_plan_schema_keeps_the_count_strict_mode_enforces():
    """A wrong number of ablations is prevented by the provider instead of costing a repair turn."""
    ablations = strict_schema(rules.schema(3))["properties"]["ablations"]
    assert (ablations["minItems"], ablations["maxItems"]) == (3, 3)
    assert ablations["items"]["properties"]["metrics"]["minItems"] == 1


@pytest.mark.parametrize("model", [lambda: rules.strict_plan(5), lambda: JudgeAnswer], ids=["plan", "judge"])
def test_openai_strict_schema_matches_the_sdks_helper_but_for_string_lengths(model):
    """The openai SDK's own `to_strict_json_schema` for the same pydantic model gives the same schema, except
    that it passes `minLength` through, which strict mode does not enforce (our validator checks it)."""
    sdk = to_strict_json_schema(model())
    ours = strict_schema(rules.model_schema(model()))
    assert ours == _without(rules.inline_refs(sdk, sdk.get("$defs", {})), "minLength")


def test_anthropic_schema_is_the_sdks_transform():
    shaped = anthropic_schema(rules.schema(5))
    assert shaped == anthropic.transform_schema(rules.schema(5))
    ablations = shaped["properties"]["ablations"]
    assert "maxItems" not in ablations and "exactly 5" in ablations["description"]  # limits move into words
    for _, node in _walk(shaped):
        if node.get("type") == "object":
            assert node["additionalProperties"] is False
