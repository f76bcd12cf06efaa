"""A local fake of the OpenAI Chat Completions and Anthropic Messages HTTP APIs.

Standard library only.  Tests start a real HTTP server on 127.0.0.1 (port chosen
by the OS) and point the real ``openai`` / ``anthropic`` SDKs at it::

    with FakeServer() as srv:
        srv.push(Reply.json({"steps": []}))
        client = openai.OpenAI(api_key="x", base_url=srv.openai_base_url, max_retries=0)
        ...
        assert srv.requests[0].body["model"] == "gpt-x"

Replies are taken from one FIFO queue shared by both endpoints.  The wire format
of a reply is chosen by the request path: ``.../chat/completions`` answers in the
OpenAI format, ``.../messages`` in the Anthropic format.  Requests to any other
path are recorded and answered 404 without consuming a queued reply.
"""

from __future__ import annotations

import itertools
import json
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable

__all__ = ["FakeServer", "Recorded", "Reply"]

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

    kind: str  # "json" | "text" | "truncated" | "status" | "hang" | "raw" | "drip"
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
    def json(cls, obj: Any, input_tokens: int = 100, output_tokens: int = 50) -> "Reply":
        """OpenAI: message.content = json.dumps(obj).  Anthropic: a tool_use block
        with input=obj if the request has tools / a forced tool_choice, else a
        text block with json.dumps(obj)."""
        return cls("json", obj, input_tokens, output_tokens)

    @classmethod
    def text(cls, content: str, input_tokens: int = 100, output_tokens: int = 50) -> "Reply":
        return cls("text", content, input_tokens, output_tokens)

    @classmethod
    def truncated(cls, content: str, input_tokens: int = 100, output_tokens: int = 50) -> "Reply":
        """finish_reason "length" / stop_reason "max_tokens" with the text as given."""
        return cls("truncated", content, input_tokens, output_tokens)

    @classmethod
    def status(cls, code: int, message: str = "error", headers: dict[str, str] | None = None) -> "Reply":
        """HTTP error with the provider's own error envelope (plus extra headers)."""
        return cls("status", None, code=code, message=message, headers=dict(headers or {}))

    @classmethod
    def raw_body(cls, body: bytes, code: int = 200, content_type: str = "application/json",
                 headers: dict[str, str] | None = None) -> "Reply":
        """Exactly these bytes as the body (an HTML page, nothing, invalid UTF-8, absurd JSON)."""
        return cls("raw", None, code=code, raw=body, headers={"Content-Type": content_type, **(headers or {})})

    @classmethod
    def drip(cls, body: bytes, interval: float) -> "Reply":
        """HTTP 200 whose body arrives one byte every `interval` seconds (Content-Length set)."""
        return cls("drip", None, raw=body, hang_seconds=interval)

    @classmethod
    def redirect(cls, location: str, code: int = 307) -> "Reply":
        return cls("raw", None, code=code, raw=b"", headers={"Location": location, "Content-Type": "text/plain"})

    @classmethod
    def hang(cls, seconds: float) -> "Reply":
        """Sleep ``seconds`` before answering 200 with an empty text (the client
        is expected to time out first).  Cut short when the server stops."""
        return cls("hang", "", hang_seconds=seconds)


# --------------------------------------------------------------------------- rendering


def _openai_body(reply: Reply, req: Recorded) -> tuple[int, dict]:
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
        "system_fingerprint": None,
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


def _anthropic_body(reply: Reply, req: Recorded) -> tuple[int, dict]:
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


# --------------------------------------------------------------------------- server


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    fake: "FakeServer"

    def handle_error(self, request, client_address):  # noqa: D401 - silence client disconnects
        import sys

        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, TimeoutError, OSError)):
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive for the SDKs' connection pools
    server_version = "FakeLLM/1.0"
    sys_version = ""
    timeout = 60  # idle keep-alive connections are dropped after this

    server: _HTTPServer

    def log_message(self, format, *args):  # silence default request logging
        pass

    def setup(self):
        super().setup()
        # headers and body go out in separate writes: without TCP_NODELAY, Nagle +
        # delayed ACK add ~40 ms to every response
        try:
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass
        self.server.fake._track(self.connection, add=True)

    def finish(self):
        try:
            super().finish()
        finally:
            self.server.fake._track(self.connection, add=False)

    # -- helpers

    def _send_json(self, code: int, obj: dict, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(obj).encode("utf-8")
        try:
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            rid = _next_id("req_")
            self.send_header("x-request-id", rid)
            self.send_header("request-id", rid)
            for k, v in (headers or {}).items():
                self.send_header(k, str(v))
            self.end_headers()
            self.wfile.write(data)
            self.wfile.flush()
        except (BrokenPipeError, ConnectionError, OSError):
            # the client gave up (e.g. timed out during a hang)
            self.close_connection = True

    def _send_raw(self, reply: "Reply") -> None:
        """Send a "raw" or "drip" reply byte-exact (a drip sends its body one byte at a time)."""
        try:
            self.send_response(reply.code)
            headers = {"Content-Type": "application/json", **reply.headers}
            for k, v in headers.items():
                self.send_header(k, str(v))
            self.send_header("Content-Length", str(len(reply.raw)))
            self.end_headers()
            if reply.kind == "drip":
                for i in range(len(reply.raw)):
                    if self.server.fake._stopping.wait(reply.hang_seconds):
                        break
                    self.wfile.write(reply.raw[i:i + 1])
                    self.wfile.flush()
            else:
                self.wfile.write(reply.raw)
            self.wfile.flush()
        except (BrokenPipeError, ConnectionError, OSError):
            self.close_connection = True

    def _read_request(self) -> Recorded:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length > 0 else b""
        try:
            body = json.loads(raw) if raw else {}
            if not isinstance(body, dict):
                body = {"_json": body}
        except ValueError:
            body = {"_raw": raw.decode("utf-8", "replace")}
        path, _, query = self.path.partition("?")
        headers = {k.lower(): v for k, v in self.headers.items()}
        return Recorded(path=path, headers=headers, body=body, query=query, raw=raw)

    # -- verbs

    def do_POST(self):
        fake = self.server.fake
        req = self._read_request()
        fake._record(req)
        if fake.batches.handles(req.path):
            status, body, headers = fake.batches.post(req)
            self._send_json(status, body, headers)
            return

        if req.path.endswith("/chat/completions"):
            render = _openai_body
        elif req.path.endswith("/messages"):
            render = _anthropic_body
        else:
            self._send_json(404, {"error": {"message": f"fake server: unknown path {req.path}", "type": "not_found"}})
            return

        if req.body.get("stream"):
            status, body = render(Reply.status(400, "fake server: streaming is not supported"), req)
            self._send_json(status, body)
            return

        reply = fake._next_reply(req)
        wait = fake.latency + reply.delay + (reply.hang_seconds if reply.kind == "hang" else 0.0)
        if wait > 0 and fake._stopping.wait(wait):
            # server is shutting down: drop the connection instead of answering
            self.close_connection = True
            return
        if reply.kind in ("raw", "drip"):
            self._send_raw(reply)
            return
        status, body = render(reply, req)
        self._send_json(status, body, reply.headers)

    def do_GET(self):
        req = self._read_request()
        fake = self.server.fake
        fake._record(req)
        if fake.batches.handles(req.path):
            status, body, headers = fake.batches.get(req)
            if isinstance(body, bytes):
                self._send_raw(Reply.raw_body(body, status, "application/octet-stream"))
            else:
                self._send_json(status, body, headers)
            return
        self._send_json(404, {"error": {"message": f"fake server: unknown path {req.path}", "type": "not_found"}})


class FakeServer:
    """Fake OpenAI + Anthropic endpoint on 127.0.0.1.  Use as a context manager
    (or call start()/stop())."""

    def __init__(self, default: Callable[[Recorded], Reply] | None = None, latency: float = 0.0):
        self.default = default
        self.latency = latency
        self.requests: list[Recorded] = []
        self._queue: deque[Reply] = deque()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._conns: set[socket.socket] = set()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.url = ""
        self.openai_base_url = ""
        self.anthropic_base_url = ""
        try:  # tests/ as a plain folder on sys.path, or as a package
            from fakebatch import Batches
        except ImportError:
            from tests.fakebatch import Batches
        self.batches = Batches(self)

    # -- lifecycle

    def start(self) -> "FakeServer":
        if self._httpd is not None:
            return self
        self._stopping.clear()
        httpd = _HTTPServer(("127.0.0.1", 0), _Handler)
        httpd.fake = self
        self._httpd = httpd
        port = httpd.server_address[1]
        self.url = f"http://127.0.0.1:{port}"
        self.openai_base_url = self.url + "/v1"
        self.anthropic_base_url = self.url
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.01}, name=f"fakeserver:{port}", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        self._stopping.set()  # wakes up hanging / sleeping handlers
        httpd.shutdown()
        httpd.server_close()
        with self._lock:
            conns = list(self._conns)
        for c in conns:  # unblock handlers waiting on idle keep-alive connections
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> "FakeServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- queue

    def push(self, *replies: Reply) -> None:
        """Append replies to the FIFO queue shared by both endpoints."""
        with self._lock:
            self._queue.extend(replies)

    @property
    def open_connections(self) -> int:
        """Client connections the server still holds (0 once every request is answered or dropped)."""
        with self._lock:
            return len(self._conns)

    @property
    def queued(self) -> int:
        """Number of replies still waiting in the queue."""
        with self._lock:
            return len(self._queue)

    # -- internals used by the handler

    def _record(self, req: Recorded) -> None:
        with self._lock:
            self.requests.append(req)

    def _track(self, conn: socket.socket, add: bool) -> None:
        with self._lock:
            if add:
                self._conns.add(conn)
            else:
                self._conns.discard(conn)

    def _next_reply(self, req: Recorded) -> Reply:
        with self._lock:
            if self._queue:
                return self._queue.popleft()
        if self.default is not None:
            try:
                reply = self.default(req)
            except Exception as e:  # surface bugs in the default callable to the client
                return Reply.status(500, f"fake server: default raised {type(e).__name__}: {e}")
            if isinstance(reply, Reply):
                return reply
            return Reply.status(500, f"fake server: default returned {type(reply).__name__}, not Reply")
        return Reply.status(500, "fake server: no reply queued")
