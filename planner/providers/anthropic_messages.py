"""Anthropic Messages. Structured output is JSON output (`output_config.format`) where the model
takes it, else a forced tool call whose input schema is the plan.

Claude 4.5 and later answer under `output_config.format` with JSON matching the schema;
older models (and the fallback when an endpoint refuses JSON output) get one tool,
forced with `disable_parallel_tool_use: true` (the contract's promise of exactly one
`tool_use` block), and `strict: true` where the model enforces it. Both schemas are
shaped by the SDK's own `transform_schema` (Anthropic's grammar takes no size keywords;
our validator checks them). Thinking blocks before the answer are skipped; a refusal,
a context overflow, or an output budget spent on thinking ends the job at once.
The same params travel in a Message Batches request, and a batch result's message goes
through the same `reply_from_body` as a synchronous answer.
"""

from __future__ import annotations

import importlib
import json
import os
from typing import Any

from planner.core.messages import (
    BUDGET,
    CONTEXT,
    END,
    REFUSED,
    TRUNCATED,
    OutputMode,
    Reply,
    Request,
)
from planner.providers.base import BadResponse, StructuredOutputUnsupported
from planner.providers.sdk import (
    Endpoint,
    SdkAdapter,
    api_key,
    call_raw,
    check_base_url,
    kwargs_for,
    status_error,
    status_message,
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
    if request.mode is OutputMode.JSON_SCHEMA:
        body["output_config"] = {"format": {"type": "json_schema", "schema": anthropic_schema(request.schema)}}
    elif request.mode is OutputMode.TOOL:
        schema = anthropic_schema(request.schema) if spec.strict_tool else request.schema
        tool: dict[str, Any] = {"name": request.tool_name, "description": "Submit your structured answer.",
                                "input_schema": schema}
        if spec.strict_tool:
            tool["strict"] = True
        body["tools"] = [tool]
        body["tool_choice"] = {"type": "tool", "name": request.tool_name, "disable_parallel_tool_use": True}
    return body


def anthropic_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """The schema in the dialect Anthropic's structured output enforces, by the SDK's own helper."""
    import anthropic

    return anthropic.transform_schema(schema)


def reply_from_body(body: Any, mode: OutputMode, tool_name: str, what: str) -> Reply:
    """A Reply from a Message object, or BadResponse when the object is not one."""
    content = body.get("content") if isinstance(body, dict) else None
    if not isinstance(content, list):
        raise BadResponse(f"{what}: the answer has no content")
    blocks = [b for b in content if isinstance(b, dict) and b.get("type") not in ("thinking", "redacted_thinking")]
    calls = [b.get("input") for b in blocks if b.get("type") == "tool_use" and b.get("name") == tool_name]
    objects = [c for c in calls if isinstance(c, dict)]
    text = "".join(b["text"] for b in blocks if b.get("type") == "text" and isinstance(b.get("text"), str))
    if calls:
        text = json.dumps(calls[0], ensure_ascii=False)
    usage = body.get("usage")
    reply = Reply(text=text, data=objects[0] if objects else None, alternatives=objects[1:], mode=mode.value,
                  usage_known=isinstance(usage, dict), meta={"stop_reason": body.get("stop_reason")},
                  **_usage(usage if isinstance(usage, dict) else {}))
    reply.stop, reply.stop_detail = _stop(body, bool(calls or text.strip()))
    reply.truncated = reply.stop in (TRUNCATED, BUDGET)
    return reply


def _usage(usage: dict[str, Any]) -> dict[str, int]:
    """Anthropic counts cache reads and writes apart from `input_tokens`; ours counts all input together."""
    read, written = _count(usage.get("cache_read_input_tokens")), _count(usage.get("cache_creation_input_tokens"))
    details = usage.get("output_tokens_details") if isinstance(usage.get("output_tokens_details"), dict) else {}
    return {"input_tokens": _count(usage.get("input_tokens")) + read + written,
            "output_tokens": _count(usage.get("output_tokens")), "cache_read_tokens": read,
            "cache_write_tokens": written, "reasoning_tokens": _count(details.get("thinking_tokens"))}


def _stop(body: dict[str, Any], answered: bool) -> tuple[str, str]:
    reason = body.get("stop_reason")
    if reason == "refusal":
        details = body.get("stop_details") if isinstance(body.get("stop_details"), dict) else {}
        words = [str(details[k]) for k in ("explanation", "category") if details.get(k)]
        return REFUSED, " / ".join(words)
    if reason == "model_context_window_exceeded":
        return CONTEXT, "stop_reason model_context_window_exceeded"
    if reason == "max_tokens":
        return (TRUNCATED, "") if answered else (BUDGET, "stop_reason max_tokens")
    return END, ""


def _count(value: Any) -> int:
    return value if isinstance(value, int) and value >= 0 else 0


def refusal(status: int, message: str, request: Request, what: str) -> Exception | None:
    """StructuredOutputUnsupported when the endpoint refused our way of asking for structure (JSON output
    or a forced tool): the conversation then asks again in the next mode."""
    words = ("output_config", "output_format", "structured output", "tool_choice", "strict")
    if status == 400 and request.mode is not OutputMode.TAGGED and any(w in message.lower() for w in words):
        return StructuredOutputUnsupported(f"{what}: {request.mode.value} refused ({message[:200]})")
    return None


class AnthropicMessages(SdkAdapter):
    def __init__(self, spec: ModelSpec, base_url: str | None, timeout: float) -> None:
        super().__init__(spec, endpoint(spec, base_url), timeout,
                         lambda: importlib.import_module("anthropic").Anthropic)

    def complete(self, request: Request) -> Reply:
        import anthropic

        create = self.client.messages.with_raw_response.create
        try:
            raw = call_raw(create, kwargs_for(create, wire_body(self.spec, request)), self.timeout, self.what(),
                           anthropic)
        except anthropic.APIStatusError as exc:
            raise refusal(exc.status_code, status_message(exc), request, self.what()) or status_error(
                exc, self.what(), self.spec.retired) from None
        return reply_from_body(raw, request.mode, request.tool_name, self.what())


def create(spec: ModelSpec, base_url: str | None, timeout: float) -> AnthropicMessages:
    return AnthropicMessages(spec, base_url, timeout)
