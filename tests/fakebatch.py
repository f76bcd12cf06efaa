"""The batch endpoints of the fake server: OpenAI's Files + Batch API and Anthropic's Message Batches.

Standard library only, driven through the real SDKs. Each batch line is answered by
the same machinery as a synchronous request (the server's reply queue or its default
callable), so a test scripts batch answers exactly as it scripts synchronous ones.
A batch completes on the `polls`-th status check after its creation. Knobs on
`Batches` (set by a test) shape the results like the real engines' failure modes:

- `line_fate(custom_id, body)`: None (answer it), "expire", "cancel", "code:<error code>", "drop" (no
  line at all) or "error" (a server error for that line);
- `shuffle`: results in random order; `empty_error_file_id`: "" instead of null;
- `fail_with`: a (code, message) a whole OpenAI batch fails with, e.g. token_limit_exceeded,
  when `fail_if(batch)` says so;
- `create_delay` (from the `delay_from`-th creation on): the batch exists at once, its id comes late;
- `refuse(method, path)`: a (status, message) to answer a batch endpoint with instead, e.g. a 401;
  `forget(batch_id)` makes the server not know a batch any more (404);
- `odd_lines(batch)`: (extra output lines, extra error-file lines) added when a batch ends.
"""

from __future__ import annotations

import itertools
import json
import random
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

try:  # tests/ as a plain folder on sys.path, or as a package
    import contracts
except ImportError:
    from tests import contracts

_ids = itertools.count(1)
_CUSTOM_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


def _id(prefix: str) -> str:
    return f"{prefix}{next(_ids):020d}"


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat().replace("+00:00", "Z")


@dataclass
class FakeBatch:
    id: str
    kind: str  # "openai" | "anthropic"
    lines: list[dict[str, Any]]
    created: float = field(default_factory=time.time)
    polls: int = 0
    status: str = "in_progress"
    input_file_id: str | None = None
    metadata: dict[str, Any] | None = None
    output: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    output_file_id: str | None = None
    error_file_id: str | None = None
    failure: tuple[str, str] | None = None
    cancelled: bool = False


def multipart(raw: bytes, content_type: str) -> dict[str, bytes]:
    """The parts of a multipart/form-data body, by field name."""
    boundary = content_type.split("boundary=", 1)[1].strip().strip('"').encode()
    parts = {}
    for chunk in raw.split(b"--" + boundary):
        if b"\r\n\r\n" not in chunk:
            continue
        head, _, body = chunk.partition(b"\r\n\r\n")
        name = re.search(rb'name="([^"]+)"', head)
        if name:
            parts[name.group(1).decode()] = body[:-2] if body.endswith(b"\r\n") else body
    return parts


class Batches:
    def __init__(self, server: Any) -> None:
        self.server = server
        self.files: dict[str, bytes] = {}
        self.batches: dict[str, FakeBatch] = {}
        self.created: list[FakeBatch] = []  # in creation order
        self.lines: list[dict[str, Any]] = []  # every batch line answered, as (custom_id, body)
        self.polls_until_done = 2
        self.line_fate: Callable[[str, dict[str, Any]], str | None] = lambda cid, body: None
        self.shuffle = False
        self.empty_error_file_id = False
        self.fail_if: Callable[[FakeBatch], bool] = lambda batch: False
        self.fail_with = ("token_limit_exceeded", "Enqueued token limit reached for this model.")
        self.create_delay = 0.0  # seconds a batch creation waits before answering (the batch exists already)
        self.delay_from = 1  # the first creation (1-based) that waits
        self.refuse: Callable[[str, str], tuple[int, str] | None] = lambda method, path: None
        self.odd_lines: Callable[[FakeBatch], tuple[list[str], list[str]]] = lambda batch: ([], [])
        self.lock = threading.Lock()

    @staticmethod
    def handles(path: str) -> bool:
        return path.startswith(("/v1/files", "/v1/batches", "/v1/messages/batches"))

    # ------------------------------------------------------------ HTTP

    def forget(self, batch_id: str) -> None:
        with self.lock:
            self.batches.pop(batch_id, None)

    def _refused(self, method: str, path: str) -> tuple[int, Any, dict[str, str]] | None:
        refusal = self.refuse(method, path)
        if refusal is None:
            return None
        status, message = refusal
        kind = {401: "authentication_error", 403: "permission_error", 404: "not_found_error"}.get(status, "api_error")
        if path.startswith("/v1/messages/"):
            return status, {"type": "error", "error": {"type": kind, "message": message}}, {}
        return status, {"error": {"message": message, "type": kind, "code": None, "param": None}}, {}

    def post(self, req: Any) -> tuple[int, Any, dict[str, str]]:
        refused = self._refused("POST", req.path)
        if refused is not None:
            return refused
        answer = self._post(req)
        if req.path in ("/v1/batches", "/v1/messages/batches") and self.create_delay and \
                len(self.created) >= self.delay_from:
            self.server._stopping.wait(self.create_delay)
        return answer

    def _post(self, req: Any) -> tuple[int, Any, dict[str, str]]:
        path = req.path
        with self.lock:
            if path == "/v1/files":
                return self._upload(req)
            if path == "/v1/batches":
                return self._create_openai(req.body)
            if path == "/v1/messages/batches":
                return self._create_anthropic(req.body)
            match = re.fullmatch(r"/v1/(?:messages/)?batches/([^/]+)/cancel", path)
            if match and match.group(1) in self.batches:
                batch = self.batches[match.group(1)]
                batch.cancelled = True
                return 200, self._view(batch), {}
        return self._not_found(path)

    def get(self, req: Any) -> tuple[int, Any, dict[str, str]]:
        path = req.path
        refused = self._refused("GET", path)
        if refused is not None:
            return refused
        with self.lock:
            match = re.fullmatch(r"/v1/files/([^/]+)/content", path)
            if match and match.group(1) in self.files:
                return 200, self.files[match.group(1)], {}
            match = re.fullmatch(r"/v1/messages/batches/([^/]+)/results", path)
            if match and match.group(1) in self.batches:
                batch = self.batches[match.group(1)]
                return 200, "".join(line + "\n" for line in batch.output).encode(), {}
            match = re.fullmatch(r"/v1/(?:messages/)?batches/([^/]+)", path)
            if match and match.group(1) in self.batches:
                batch = self.batches[match.group(1)]
                batch.polls += 1
                self._advance(batch)
                return 200, self._view(batch), {}
            if path in ("/v1/batches", "/v1/messages/batches"):
                kind = "openai" if path == "/v1/batches" else "anthropic"
                data = [self._view(b) for b in reversed(self.created) if b.kind == kind]
                return 200, {"object": "list", "data": data, "has_more": False,
                             "first_id": data[0]["id"] if data else None, "last_id": data[-1]["id"] if data else None}, {}
        return self._not_found(path)

    @staticmethod
    def _not_found(path: str) -> tuple[int, Any, dict[str, str]]:
        message = f"fake batch: unknown path {path}"
        if path.startswith("/v1/messages/"):
            return 404, {"type": "error", "error": {"type": "not_found_error", "message": message}}, {}
        return 404, {"error": {"message": message, "type": "invalid_request_error", "code": None, "param": None}}, {}

    # ------------------------------------------------------------ creating

    def _upload(self, req: Any) -> tuple[int, Any, dict[str, str]]:
        parts = multipart(req.raw, req.headers.get("content-type", ""))
        file_id = _id("file-")
        self.files[file_id] = parts.get("file", b"")
        return 200, {"id": file_id, "object": "file", "bytes": len(self.files[file_id]), "created_at": int(time.time()),
                     "filename": "batch.jsonl", "purpose": parts.get("purpose", b"").decode(), "status": "processed"}, {}

    def _create_openai(self, body: dict[str, Any]) -> tuple[int, Any, dict[str, str]]:
        data = self.files.get(body.get("input_file_id", ""))
        if data is None:
            return 400, {"error": {"message": "no such input file", "type": "invalid_request_error"}}, {}
        lines = [json.loads(line) for line in data.decode().splitlines() if line.strip()]
        self.server.check("batch create", lambda b: contracts.openai("CreateBatchRequest", b), body)
        for line in lines:
            self.server.check("batch line", contracts.openai_batch_line, line)
        ids = [line.get("custom_id") for line in lines]
        if len(set(ids)) != len(ids):
            return 400, {"error": {"message": "duplicate custom_id", "type": "invalid_request_error"}}, {}
        batch = FakeBatch(_id("batch_"), "openai", lines, input_file_id=body["input_file_id"],
                          metadata=body.get("metadata"))
        return 200, self._register(batch), {}

    def _create_anthropic(self, body: dict[str, Any]) -> tuple[int, Any, dict[str, str]]:
        requests = body.get("requests") or []
        self.server.check("batch create", contracts.anthropic_batch_create, body)
        ids = [r.get("custom_id", "") for r in requests]
        bad = next((cid for cid in ids if not _CUSTOM_ID.fullmatch(str(cid))), None)
        if bad is not None or len(set(ids)) != len(ids):
            message = f"requests: custom_id {bad!r} must be 1 to 64 characters of [a-zA-Z0-9_-]" if bad is not None \
                else "requests: custom_id values must be unique"
            return 400, {"type": "error", "error": {"type": "invalid_request_error", "message": message}}, {}
        return 200, self._register(FakeBatch(_id("msgbatch_"), "anthropic", requests)), {}

    def _register(self, batch: FakeBatch) -> dict[str, Any]:
        self.batches[batch.id] = batch
        self.created.append(batch)
        if batch.kind == "openai" and self.fail_if(batch):
            batch.failure, batch.status = self.fail_with, "failed"
        return self._view(batch)

    # ------------------------------------------------------------ finishing

    def _advance(self, batch: FakeBatch) -> None:
        if batch.status in ("completed", "failed", "ended", "cancelled", "expired"):
            return
        if batch.cancelled or batch.polls >= self.polls_until_done:
            self._finish(batch)

    def _finish(self, batch: FakeBatch) -> None:
        order = list(batch.lines)
        if self.shuffle:
            random.Random(batch.id).shuffle(order)
        for line in order:
            if batch.kind == "openai":
                self._openai_line(batch, line)
            else:
                self._anthropic_line(batch, line)
        extra_output, extra_errors = self.odd_lines(batch)
        batch.output += extra_output
        batch.errors += extra_errors
        if batch.kind == "openai":
            if batch.output:
                batch.output_file_id = _id("file-")
                self.files[batch.output_file_id] = "".join(x + "\n" for x in batch.output).encode()
            if batch.errors:
                batch.error_file_id = _id("file-")
                self.files[batch.error_file_id] = "".join(x + "\n" for x in batch.errors).encode()
            elif self.empty_error_file_id:
                batch.error_file_id = ""
            batch.status = "cancelled" if batch.cancelled else "completed"
        else:
            batch.status = "ended"

    def _answer(self, path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        try:
            from fakewire import Recorded, anthropic_body, openai_body
        except ImportError:
            from tests.fakewire import Recorded, anthropic_body, openai_body

        req = Recorded(path=path, headers={}, body=body)
        reply = self.server._next_reply(req)
        render = openai_body if path.endswith("/chat/completions") else anthropic_body
        return render(reply, req)

    def _fate(self, batch: FakeBatch, cid: str, body: dict[str, Any]) -> str | None:
        return "cancel" if batch.cancelled else self.line_fate(cid, body)

    def _openai_line(self, batch: FakeBatch, line: dict[str, Any]) -> None:
        cid, body = line["custom_id"], line["body"]
        fate = self._fate(batch, cid, body)
        self.lines.append({"custom_id": cid, "body": body, "fate": fate})
        if fate == "drop":
            return
        if fate in ("expire", "cancel") or (fate or "").startswith("code:"):
            code = {"expire": "batch_expired", "cancel": "batch_cancelled"}.get(fate, (fate or "")[5:])
            batch.errors.append(json.dumps({"id": _id("batch_req_"), "custom_id": cid, "response": None,
                                            "error": {"code": code, "message": f"This request failed: {code}."}}))
            return
        status, answer = (500, {"error": {"message": "server error", "type": "server_error"}}) if fate == "error" \
            else self._answer("/v1/chat/completions", body)
        line = {"id": _id("batch_req_"), "custom_id": cid,
                "response": {"status_code": status, "request_id": _id("req_"), "body": answer}, "error": None}
        self.server.check("batch output line", lambda x: contracts.openai("BatchRequestOutput", x), line)
        row = json.dumps(line)
        (batch.output if status == 200 else batch.errors).append(row)

    def _anthropic_line(self, batch: FakeBatch, line: dict[str, Any]) -> None:
        cid, params = line["custom_id"], line["params"]
        fate = self._fate(batch, cid, params)
        self.lines.append({"custom_id": cid, "body": params, "fate": fate})
        if fate == "drop":
            return
        if fate in ("expire", "cancel"):
            result: dict[str, Any] = {"type": "expired" if fate == "expire" else "canceled"}
        elif fate == "error":
            result = {"type": "errored", "error": {"type": "error", "error": {"type": "api_error",
                                                                             "message": "internal error"}}}
        else:
            status, answer = self._answer("/v1/messages", params)
            result = {"type": "succeeded", "message": answer} if status == 200 else {
                "type": "errored", "error": {"type": "error", "error": answer.get("error", {})}}
        line = {"custom_id": cid, "result": result}
        self.server.check("batch result", contracts.anthropic_batch_result, line)
        batch.output.append(json.dumps(line))

    # ------------------------------------------------------------ views

    def _view(self, batch: FakeBatch) -> dict[str, Any]:
        if batch.kind == "openai":
            failed = min(len(batch.errors), len(batch.lines) - min(len(batch.output), len(batch.lines)))
            return {
                "id": batch.id, "object": "batch", "endpoint": "/v1/chat/completions",
                "errors": {"object": "list", "data": [{"code": batch.failure[0], "message": batch.failure[1],
                                                       "param": None, "line": None}]} if batch.failure else None,
                "input_file_id": batch.input_file_id, "completion_window": "24h", "status": batch.status,
                "output_file_id": batch.output_file_id, "error_file_id": batch.error_file_id,
                "created_at": int(batch.created), "expires_at": int(batch.created) + 86400,
                "request_counts": {"total": len(batch.lines), "completed": min(len(batch.output), len(batch.lines)),
                                   "failed": failed},
                "metadata": batch.metadata,
            }
        ended = batch.status == "ended"
        counts = {"processing": 0 if ended else len(batch.lines), "succeeded": 0, "errored": 0, "canceled": 0,
                  "expired": 0}
        if ended:
            for row in batch.output[:len(batch.lines)]:  # odd lines a test added are not requests
                try:
                    kind = json.loads(row)["result"]["type"]
                except (ValueError, KeyError, TypeError):
                    continue
                if kind in counts:
                    counts[kind] += 1
        url = f"{self.server.url}/v1/messages/batches/{batch.id}/results" if ended else None
        return {"id": batch.id, "type": "message_batch",
                "processing_status": "ended" if ended else ("canceling" if batch.cancelled else "in_progress"),
                "request_counts": counts, "ended_at": _iso(time.time()) if ended else None,
                "created_at": _iso(batch.created), "expires_at": _iso(batch.created + 86400), "archived_at": None,
                "cancel_initiated_at": _iso(time.time()) if batch.cancelled else None, "results_url": url}
