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

import json
import socket
import threading
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

__all__ = ["FakeServer", "Recorded", "Reply"]

try:  # tests/ as a plain folder on sys.path, or as a package
    import contracts
    from fakewire import Recorded, Reply, _next_id, anthropic_body, openai_body
except ImportError:
    from tests import contracts
    from tests.fakewire import Recorded, Reply, _next_id, anthropic_body, openai_body


# --------------------------------------------------------------------------- server


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    fake: FakeServer

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

    def _send_raw(self, reply: Reply) -> None:
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
        if len(req.raw) < int(req.headers.get("content-length") or 0):
            # the client died mid-send (a killed run): like a real server, nothing is received or answered
            self.close_connection = True
            return
        fake._record(req)
        if fake.batches.handles(req.path):
            status, body, headers = fake.batches.post(req)
            self._send_json(status, body, headers)
            return

        if req.path.endswith("/chat/completions"):
            render, asked, answered = openai_body, contracts.openai_request, contracts.openai_response
        elif req.path.endswith("/messages"):
            render, asked, answered = anthropic_body, contracts.anthropic_request, contracts.anthropic_message
        else:
            self._send_json(404, {"error": {"message": f"fake server: unknown path {req.path}", "type": "not_found"}})
            return

        if req.body.get("stream"):
            status, body = render(Reply.status(400, "fake server: streaming is not supported"), req)
            self._send_json(status, body)
            return

        if "_raw" not in req.body:
            fake.check("request", asked, req.body)
        reply = fake._next_reply(req)
        wait = fake.latency + reply.delay + (reply.hang_seconds if reply.kind == "hang" else 0.0)
        with fake.serving():
            stopping = wait > 0 and fake._stopping.wait(wait)
        if stopping:  # server is shutting down: drop the connection instead of answering
            self.close_connection = True
            return
        if reply.kind in ("raw", "drip"):
            self._send_raw(reply)
            return
        status, body = render(reply, req)
        if status == 200:
            fake.check("answer", answered, body)
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
        self.violations: list[str] = []  # requests or answers outside the providers' contracts
        self.in_flight = 0  # model requests being answered right now
        self.most_in_flight = 0  # the most answered at once: shows concurrency without timing anything
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

    def start(self) -> FakeServer:
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

    def __enter__(self) -> FakeServer:
        return self.start()

    def __exit__(self, exc_type, *exc) -> None:
        self.stop()
        if exc_type is None and self.violations:
            raise AssertionError("outside the providers' contracts:\n" + "\n".join(self.violations[:5]))

    @contextmanager
    def serving(self) -> Iterator[None]:
        """Count a model request as being answered for the block (its latency or hang included)."""
        with self._lock:
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            yield
        finally:
            with self._lock:
                self.in_flight -= 1

    def check(self, what: str, check: Callable[[dict], None], body: dict) -> None:
        """Record a request planner sent, or an answer this server gave, that the contract does not allow."""
        try:
            check(body)
        except Exception as exc:  # jsonschema, pydantic and assertion errors alike
            with self._lock:
                self.violations.append(f"{what}: {type(exc).__name__}: {str(exc)[:400]}")

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
