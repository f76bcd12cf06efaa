"""The wire formats of the fake server: what it records, the replies a test scripts, and how a
reply is rendered as an OpenAI Chat Completions or Anthropic Messages answer (standard library only).
"""

from __future__ import annotations

import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Recorded", "Reply", "anthropic_body", "openai_body"]

_ids = itertools.count(1)


def _next_id(prefix: str) -> str:
    return f"{prefix}{next(_ids):024d}"


@dataclass
class Recorded:
    """One request the server received."""

    path: str  # without the query string, e.g. "/v1/chat/completions"
    headers: dict[str, str]  # lower-cased names
    body: dict  # parsed JSON body ({} if empty; {"_raw": text} if not JSON)
    query: str = ""  # raw query string, "" if none
    raw: bytes = b""  # the body as sent (multipart uploads are parsed from it)


# HTTP status -> (OpenAI error type, OpenAI error code)
_OPENAI_ERRORS: dict[int, tuple[str, str | None]] = {
    400: ("invalid_request_error", None),
    401: ("invalid_request_error", "invalid_api_key"),
    403: ("invalid_request_error", "unsupported_country_region_territory"),
    404: ("invalid_request_error", "model_not_found"),
    409: ("invalid_request_error", None),
    422: ("invalid_request_error", None),
    429: ("requests", "rate_limit_exceeded"),
    500: ("server_error", None),
    502: ("server_error", None),
    503: ("server_error", None),
    504: ("server_error", None),
}

# HTTP status -> Anthropic error type
_ANTHROPIC_ERRORS: dict[int, str] = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    408: "timeout_error",
    409: "conflict_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    502: "api_error",
    503: "api_error",
    504: "timeout_error",
    529: "overloaded_error",
}


@dataclass
class Reply:
    """What the server answers to one request.  Build with the classmethods."""

    kind: str  # "json" | "text" | "truncated" | "answer" | "status" | "hang" | "raw" | "drip"
    payload: Any = None  # object for "json", str for "text"/"truncated"
    input_tokens: int = 100
    output_tokens: int = 50
    code: int = 200
    message: str = "error"
    headers: dict[str, str] = field(default_factory=dict)
    hang_seconds: float = 0.0
    delay: float = 0.0  # extra latency before this reply (settable)
    raw: bytes = b""  # the exact body of a "raw" or "drip" reply

    @classmethod
    def json(cls, obj: Any, input_tokens: int = 100, output_tokens: int = 50) -> Reply:
        """OpenAI: message.content = json.dumps(obj).  Anthropic: a tool_use block
        with input=obj if the request has tools / a forced tool_choice, else a
        text block with json.dumps(obj)."""
        return cls("json", obj, input_tokens, output_tokens)

    @classmethod
    def text(cls, content: str, input_tokens: int = 100, output_tokens: int = 50) -> Reply:
        return cls("text", content, input_tokens, output_tokens)

    @classmethod
    def truncated(cls, content: str, input_tokens: int = 100, output_tokens: int = 50) -> Reply:
        """finish_reason "length" / stop_reason "max_tokens" with the text as given."""
        return cls("truncated", content, input_tokens, output_tokens)

    @classmethod
    def answer(cls, body: dict[str, Any]) -> Reply:
        """HTTP 200 with exactly this answer object (a chat.completion or a Message): the shapes the
        providers' contracts allow beyond plain text, e.g. a refusal, thinking blocks, several tool calls,
        cached-token usage. The server checks it against the contract like every answer it gives."""
        return cls("answer", body)

    @classmethod
    def status(cls, code: int, message: str = "error", headers: dict[str, str] | None = None) -> Reply:
        """HTTP error with the provider's own error envelope (plus extra headers)."""
        return cls("status", None, code=code, message=message, headers=dict(headers or {}))

    @classmethod
    def raw_body(cls, body: bytes, code: int = 200, content_type: str = "application/json",
                 headers: dict[str, str] | None = None) -> Reply:
        """Exactly these bytes as the body (an HTML page, nothing, invalid UTF-8, absurd JSON)."""
        return cls("raw", None, code=code, raw=body, headers={"Content-Type": content_type, **(headers or {})})

    @classmethod
    def drip(cls, body: bytes, interval: float) -> Reply:
        """HTTP 200 whose body arrives one byte every `interval` seconds (Content-Length set)."""
        return cls("drip", None, raw=body, hang_seconds=interval)

    @classmethod
    def redirect(cls, location: str, code: int = 307) -> Reply:
        return cls("raw", None, code=code, raw=b"", headers={"Location": location, "Content-Type": "text/plain"})

    @classmethod
    def hang(cls, seconds: float) -> Reply:
        """Sleep ``seconds`` before answering 200 with an empty text (the client
        is expected to time out first).  Cut short when the server stops."""
        return cls("hang", "", hang_seconds=seconds)


# --------------------------------------------------------------------------- rendering


def openai_body(reply: Reply, req: Recorded) -> tuple[int, dict]:
    if reply.kind == "answer":
        return 200, {"id": _next_id("chatcmpl-"), "object": "chat.completion", "created": int(time.time()),
                     "model": req.body.get("model", "fake-model"), **reply.payload}
    if reply.kind == "status":
        etype, ecode = _OPENAI_ERRORS.get(
            reply.code, ("server_error" if reply.code >= 500 else "invalid_request_error", None)
        )
        return reply.code, {"error": {"message": reply.message, "type": etype, "param": None, "code": ecode}}
    if reply.kind == "json":
        content = json.dumps(reply.payload)
    else:
        content = reply.payload if reply.payload is not None else ""
    finish = "length" if reply.kind == "truncated" else "stop"
    return 200, {
        "id": _next_id("chatcmpl-"),
        "object": "chat.completion",
        "created": int(time.time()),
        "model": req.body.get("model", "fake-model"),
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content, "refusal": None, "annotations": []},
                "finish_reason": finish,
                "logprobs": None,
            }
        ],
        "usage": {
            "prompt_tokens": reply.input_tokens,
            "completion_tokens": reply.output_tokens,
            "total_tokens": reply.input_tokens + reply.output_tokens,
        },
        "system_fingerprint": "fp_fake",
    }


def _anthropic_tool_name(body: dict) -> str | None:
    choice = body.get("tool_choice")
    if isinstance(choice, dict) and choice.get("type") == "tool" and choice.get("name"):
        return str(choice["name"])
    if isinstance(choice, dict) and choice.get("type") == "none":
        return None
    tools = body.get("tools")
    if isinstance(tools, list) and tools and isinstance(tools[0], dict) and tools[0].get("name"):
        return str(tools[0]["name"])
    return None


def anthropic_body(reply: Reply, req: Recorded) -> tuple[int, dict]:
    if reply.kind == "answer":
        return 200, {"id": _next_id("msg_"), "type": "message", "role": "assistant", "stop_sequence": None,
                     "model": req.body.get("model", "fake-model"), **reply.payload}
    if reply.kind == "status":
        etype = _ANTHROPIC_ERRORS.get(reply.code, "api_error" if reply.code >= 500 else "invalid_request_error")
        return reply.code, {
            "type": "error",
            "error": {"type": etype, "message": reply.message},
            "request_id": _next_id("req_"),
        }
    tool = _anthropic_tool_name(req.body) if reply.kind == "json" else None
    if tool is not None:
        content = [{"type": "tool_use", "id": _next_id("toolu_"), "name": tool, "input": reply.payload}]
        stop = "tool_use"
    else:
        text = json.dumps(reply.payload) if reply.kind == "json" else (reply.payload or "")
        content = [{"type": "text", "text": text}]
        stop = "max_tokens" if reply.kind == "truncated" else "end_turn"
    return 200, {
        "id": _next_id("msg_"),
        "type": "message",
        "role": "assistant",
        "model": req.body.get("model", "fake-model"),
        "content": content,
        "stop_reason": stop,
        "stop_sequence": None,
        "usage": {
            "input_tokens": reply.input_tokens,
            "output_tokens": reply.output_tokens,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
        },
    }
