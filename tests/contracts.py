"""The providers' published contracts, as checks: OpenAI's OpenAPI component schemas (vendored in
tests/data/contracts with their commits) and the `anthropic` SDK's own request and answer types.

Every request body planner builds and every answer the fake servers give goes through these, so a
test can neither send what a provider would refuse nor answer what a provider could never send.
"""

from __future__ import annotations

import json
import typing
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

COMPONENTS = Path(__file__).parent / "data" / "contracts" / "openai-components.json"


@cache
def _spec() -> dict[str, Any]:
    return json.loads(COMPONENTS.read_text(encoding="utf-8"))


def openai(name: str, instance: Any) -> None:
    """Raise when `instance` is not a valid #/components/schemas/<name> of OpenAI's spec."""
    schema = {"$ref": f"#/components/schemas/{name}", "components": _spec()["components"]}
    jsonschema.Draft202012Validator(schema).validate(instance)


def openai_request(body: dict[str, Any]) -> None:
    openai("CreateChatCompletionRequest", body)


def openai_response(body: dict[str, Any]) -> None:
    openai("CreateChatCompletionResponse", body)


def openai_batch_line(line: dict[str, Any]) -> None:
    """A batch input line: the 2025 spec's BatchRequestInput, and a body that is a valid chat request
    (the spec describes `body` only in prose and its example)."""
    openai("BatchRequestInput", line)
    assert set(line) == {"custom_id", "method", "url", "body"}, set(line)
    openai_request(line["body"])


def _typed_dict_keys(td: Any) -> set[str]:
    return set(td.__required_keys__) | set(td.__optional_keys__)


def _check_keys(value: Any, td: Any, where: str) -> None:
    """pydantic's TypeAdapter drops unknown keys of a TypedDict silently, so the keys are checked here."""
    extra = set(value) - _typed_dict_keys(td)
    assert not extra, f"{where}: keys the contract does not have: {sorted(extra)}"


def anthropic_request(body: dict[str, Any]) -> None:
    """A Messages request: the SDK's MessageCreateParamsNonStreaming, keys checked at every level we use.
    `temperature` is a documented API parameter the SDK's 2.x types leave out; planner sends it only to
    models that take one, through extra_body."""
    from anthropic.types.message_create_params import MessageCreateParamsNonStreaming
    from anthropic.types.tool_choice_tool_param import ToolChoiceToolParam
    from anthropic.types.tool_param import ToolParam
    from pydantic import TypeAdapter

    typed = {k: v for k, v in body.items() if k != "temperature"}
    _check_keys(typed, MessageCreateParamsNonStreaming, "params")
    TypeAdapter(MessageCreateParamsNonStreaming).validate_python(typed)
    for tool in body.get("tools", []):
        _check_keys(tool, ToolParam, "tools[]")
    if "tool_choice" in body:
        _check_keys(body["tool_choice"], ToolChoiceToolParam, "tool_choice")
    if "output_config" in body:
        from anthropic.types.output_config_param import OutputConfigParam

        _check_keys(body["output_config"], OutputConfigParam, "output_config")
    if "temperature" in body:
        assert isinstance(body["temperature"], (int, float)) and 0 <= body["temperature"] <= 1


def anthropic_message(body: dict[str, Any]) -> None:
    """An answer: the SDK's Message model, and a stop_reason among its literals."""
    from anthropic.types import Message, StopReason

    Message.model_validate(body)
    assert body["stop_reason"] in typing.get_args(StopReason), body["stop_reason"]


def anthropic_batch_create(body: dict[str, Any]) -> None:
    from anthropic.types.messages.batch_create_params import BatchCreateParams, Request
    from pydantic import TypeAdapter

    _check_keys(body, BatchCreateParams, "batch")
    TypeAdapter(BatchCreateParams).validate_python(body)
    for request in body["requests"]:
        _check_keys(request, Request, "requests[]")
        anthropic_request(request["params"])


def anthropic_batch_result(line: dict[str, Any]) -> None:
    from anthropic.types.messages import MessageBatchIndividualResponse

    MessageBatchIndividualResponse.model_validate(line)
    if line["result"]["type"] == "succeeded":
        anthropic_message(line["result"]["message"])
