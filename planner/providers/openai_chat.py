"""OpenAI Chat Completions: OpenAI itself, OpenRouter, and any OpenAI-compatible server.

Structured output is OpenAI's strict json_schema response format, sent through
`chat.completions.create` (raw response) rather than the `parse` helper: `parse`
raises on an invalid answer and drops the raw text our repair turn must quote back.
The same body travels in an OpenAI batch line, and a batch result's body goes
through the same `reply_from_body` as a synchronous answer.

Every answer shape the contract allows (OpenAI's OpenAPI spec, CreateChatCompletionResponse)
is read on purpose: `message.refusal` and `finish_reason: "content_filter"` end the job
at once; `finish_reason: "length"` with no visible content means the output budget went
to reasoning; usage details (cached prompt tokens, cache writes, reasoning tokens) are kept
so each is priced at its own rate, and an answer without `usage` has an unknown cost.
"""

from __future__ import annotations

import importlib
import os
from typing import Any

from planner.core.messages import (
    BUDGET,
    END,
    FILTERED,
    REFUSED,
    TRUNCATED,
    OutputMode,
    Reply,
    Request,
)
from planner.errors import UsageError
from planner.providers.base import (
    BadResponse,
    PermanentError,
    StructuredOutputUnsupported,
)
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

OPENROUTER_URL = "https://openrouter.ai/api/v1"


def endpoint(spec: ModelSpec, base_url: str | None) -> Endpoint:
    """Where requests for `spec` go and with which key; a key is required unless --base-url is given."""
    if spec.provider == "openrouter":
        url = base_url or os.environ.get("OPENROUTER_BASE_URL") or OPENROUTER_URL
        return Endpoint(check_base_url(url), api_key("OPENROUTER_API_KEY", required=not base_url))
    if spec.provider == "compatible":
        url = base_url or os.environ.get("OPENAI_BASE_URL")
        if not url:
            raise UsageError(f"model {spec.name!r} needs an endpoint: pass --base-url http://host:port/v1 "
                             "or set OPENAI_BASE_URL")
        return Endpoint(check_base_url(url), api_key("OPENAI_API_KEY", required=False))
    url = base_url or os.environ.get("OPENAI_BASE_URL") or "https://api.openai.com/v1"
    return Endpoint(check_base_url(url), api_key("OPENAI_API_KEY", required=not base_url))


def wire_body(spec: ModelSpec, request: Request) -> dict[str, Any]:
    """The exact JSON body of POST /chat/completions (also shown by --dry-run and sent in batch lines)."""
    body: dict[str, Any] = {
        "model": request.model_id,
        "messages": [{"role": "system", "content": request.system}, *request.chat()],
    }
    body["max_completion_tokens" if spec.provider == "openai" else "max_tokens"] = request.max_tokens
    if request.temperature is not None:
        body["temperature"] = request.temperature
    if request.reasoning_effort:
        body["reasoning_effort"] = request.reasoning_effort
    if request.seed is not None:
        body["seed"] = request.seed
    if request.mode is OutputMode.JSON_SCHEMA:
        body["response_format"] = {
            "type": "json_schema",
            "json_schema": {"name": request.tool_name, "strict": True, "schema": strict_schema(request.schema)},
        }
    elif request.mode is OutputMode.JSON_OBJECT:
        # llama.cpp's server (and others) take the schema here and enforce it with a grammar.
        body["response_format"] = {"type": "json_object", "schema": request.schema}
    return body


# What OpenAI's strict structured output accepts of a JSON schema (its Structured Outputs guide lists
# minItems and maxItems for arrays; string lengths are not enforced, so our validator checks them).
STRICT_KEYWORDS = {"type", "properties", "required", "additionalProperties", "items", "enum", "description",
                   "minItems", "maxItems"}


def strict_schema(node: Any) -> Any:
    """A schema cut to OpenAI's strict subset: every property required, no extra properties, and only
    the keywords strict mode enforces (the count of ablations among them, so a wrong count is prevented
    rather than repaired). The openai SDK's own `to_strict_json_schema` gives the same for our models,
    apart from string lengths, which it passes through (a test compares the two)."""
    if isinstance(node, dict):
        kept = {k: ({name: strict_schema(s) for name, s in v.items()} if k == "properties" else strict_schema(v))
                for k, v in node.items() if k in STRICT_KEYWORDS}
        if kept.get("type") == "object":
            kept["required"] = list(kept.get("properties", {}))
            kept["additionalProperties"] = False
        return kept
    if isinstance(node, list):
        return [strict_schema(v) for v in node]
    return node


def reply_from_body(body: Any, mode: OutputMode, tool_name: str, what: str) -> Reply:
    """A Reply from a chat.completion object, or BadResponse when the object is not one."""
    choices = body.get("choices") if isinstance(body, dict) else None
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        raise BadResponse(f"{what}: the answer has no choices")
    choice = choices[0]
    message = choice.get("message")
    if not isinstance(message, dict):
        raise BadResponse(f"{what}: the answer's choice has no message")
    content = message.get("content")
    if content is not None and not isinstance(content, str):
        raise BadResponse(f"{what}: the answer's content is not text")
    usage = body.get("usage")
    reply = Reply(text=content or "", mode=mode.value, usage_known=isinstance(usage, dict),
                  meta={"finish_reason": choice.get("finish_reason"), "refusal": message.get("refusal")},
                  **_usage(usage if isinstance(usage, dict) else {}))
    reply.stop, reply.stop_detail = _stop(choice.get("finish_reason"), message, reply)
    reply.truncated = reply.stop in (TRUNCATED, BUDGET)
    return reply


def _usage(usage: dict[str, Any]) -> dict[str, int]:
    prompt = usage.get("prompt_tokens_details") if isinstance(usage.get("prompt_tokens_details"), dict) else {}
    completion = usage.get("completion_tokens_details")
    completion = completion if isinstance(completion, dict) else {}
    return {"input_tokens": _count(usage.get("prompt_tokens")), "output_tokens": _count(usage.get("completion_tokens")),
            "cache_read_tokens": _count(prompt.get("cached_tokens")),
            "cache_write_tokens": _count(prompt.get("cache_write_tokens")),
            "reasoning_tokens": _count(completion.get("reasoning_tokens"))}


def _count(value: Any) -> int:
    return value if isinstance(value, int) and value >= 0 else 0


def _stop(finish: Any, message: dict[str, Any], reply: Reply) -> tuple[str, str]:
    """How the answer ended: a refusal or content filter is final; a length stop with nothing visible
    means the budget went to reasoning (final); with visible text it is a truncation (repairable)."""
    refusal = message.get("refusal")
    if isinstance(refusal, str) and refusal.strip():
        return REFUSED, refusal
    if finish == "content_filter":
        return FILTERED, "finish_reason content_filter"
    if finish == "length":
        return (TRUNCATED, "") if reply.text.strip() else (BUDGET, "finish_reason length")
    return END, ""


def refusal(status: int, message: str, request: Request, spec: ModelSpec, what: str) -> Exception | None:
    """StructuredOutputUnsupported when a compatible server refused our response format."""
    if (
        status in (400, 422, 500)  # llama-cpp-python answers an unknown format with 500
        and request.mode in (OutputMode.JSON_SCHEMA, OutputMode.JSON_OBJECT)
        and spec.provider != "openai"
        and any(word in message.lower() for word in ("response_format", "json_schema", "json_object"))
    ):
        return StructuredOutputUnsupported(f"{what}: {request.mode.value} refused ({message[:200]})")
    return None


class OpenAIChat(SdkAdapter):
    def __init__(self, spec: ModelSpec, base_url: str | None, timeout: float) -> None:
        super().__init__(spec, endpoint(spec, base_url), timeout, lambda: importlib.import_module("openai").OpenAI)

    def complete(self, request: Request) -> Reply:
        import openai

        create = self.client.chat.completions.with_raw_response.create
        try:
            raw = call_raw(create, kwargs_for(create, wire_body(self.spec, request)), self.timeout, self.what(),
                           openai)
        except openai.APIStatusError as exc:
            raise refusal(exc.status_code, status_message(exc), request, self.spec, self.what()) or status_error(
                exc, self.what(), self.spec.retired) from None
        return reply_from_body(raw, request.mode, request.tool_name, self.what())


def create(spec: ModelSpec, base_url: str | None, timeout: float) -> OpenAIChat:
    if spec.provider not in ("openai", "openrouter", "compatible"):
        raise PermanentError(f"{spec.name}: not an OpenAI-wire model")
    return OpenAIChat(spec, base_url, timeout)
