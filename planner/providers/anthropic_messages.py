"""Anthropic Messages. Structured output is a forced tool call whose input schema is the plan.

Forcing the tool (`tool_choice` of type "tool") makes the model answer with exactly
one `tool_use` block whose `input` is the plan object: no JSON to scrape out of prose.
The same params travel in a Message Batches request, and a batch result's message
goes through the same `reply_from_body` as a synchronous answer.
"""

from __future__ import annotations

import json
import os
from typing import Any

from planner.core.messages import OutputMode, Reply, Request
from planner.providers.base import BadResponse
from planner.providers.sdk import (
    Endpoint,
    SdkAdapter,
    api_key,
    call_raw,
    check_base_url,
    kwargs_for,
    status_error,
)
from planner.registry import ModelSpec


def endpoint(spec: ModelSpec, base_url: str | None) -> Endpoint:
    url = base_url or os.environ.get("ANTHROPIC_BASE_URL") or "https://api.anthropic.com"
    return Endpoint(check_base_url(url), api_key("ANTHROPIC_API_KEY", required=not base_url))


def wire_body(spec: ModelSpec, request: Request) -> dict[str, Any]:
    """The exact JSON body of POST /v1/messages (also --dry-run's output and a batch request's params)."""
    body: dict[str, Any] = {
        "model": request.model_id,
        "max_tokens": request.max_tokens,
        "system": request.system,
        "messages": request.chat(),
    }
    if request.temperature is not None:
        body["temperature"] = request.temperature
    if request.mode is OutputMode.TOOL:
        body["tools"] = [{
            "name": request.tool_name,
            "description": "Submit your structured answer.",
            "input_schema": request.schema,
        }]
        body["tool_choice"] = {"type": "tool", "name": request.tool_name}
    return body


def reply_from_body(body: Any, mode: OutputMode, tool_name: str, what: str) -> Reply:
    """A Reply from a Message object, or BadResponse when the object is not one."""
    content = body.get("content") if isinstance(body, dict) else None
    if not isinstance(content, list):
        raise BadResponse(f"{what}: the answer has no content")
    blocks = [b for b in content if isinstance(b, dict)]
    data = next((b.get("input") for b in blocks if b.get("type") == "tool_use" and b.get("name") == tool_name),
                None)
    if data is not None:
        text = json.dumps(data, ensure_ascii=False)
    else:
        text = "".join(b["text"] for b in blocks if b.get("type") == "text" and isinstance(b.get("text"), str))
    usage = body.get("usage") if isinstance(body.get("usage"), dict) else {}
    return Reply(
        text=text,
        data=data if isinstance(data, dict) else None,
        input_tokens=_count(usage.get("input_tokens")),
        output_tokens=_count(usage.get("output_tokens")),
        truncated=body.get("stop_reason") == "max_tokens",
        mode=mode.value,
        meta={"stop_reason": body.get("stop_reason")},
    )


def _count(value: Any) -> int:
    return value if isinstance(value, int) and value >= 0 else 0


class AnthropicMessages(SdkAdapter):
    def __init__(self, spec: ModelSpec, base_url: str | None, timeout: float) -> None:
        import anthropic

        super().__init__(spec, endpoint(spec, base_url), timeout, anthropic.Anthropic)

    def complete(self, request: Request) -> Reply:
        import anthropic

        create = self.client.messages.with_raw_response.create
        try:
            raw = call_raw(create, kwargs_for(create, wire_body(self.spec, request)), self.timeout, self.what(),
                           anthropic)
        except anthropic.APIStatusError as exc:
            raise status_error(exc, self.what(), self.spec.retired) from None
        return reply_from_body(raw, request.mode, request.tool_name, self.what())


def create(spec: ModelSpec, base_url: str | None, timeout: float) -> AnthropicMessages:
    return AnthropicMessages(spec, base_url, timeout)
