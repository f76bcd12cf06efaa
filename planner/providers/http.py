"""The HTTP layer under both SDKs: a total deadline per request, no redirects, careful parsing.

`--timeout` is a deadline for the whole request (connect, send, and the whole body):
a server that drips one byte a second must not hold a job forever. httpx only bounds
each socket operation, so the client's network backend is wrapped: every connect,
read and write gets at most the time left before the deadline of the request running
on this thread. Redirects are never followed, so the paper text is only ever sent to
the host the user named. Bodies are parsed here, not by the SDKs, so an empty body,
an HTML page, bytes that are not UTF-8 or absurdly nested JSON become one clear error.
"""

from __future__ import annotations

import json
import logging
import math
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

try:  # the SDKs moved from httpx to the httpx2 fork; use whichever they use
    import httpcore2 as httpcore
    import httpx2 as httpx
except ImportError:  # pragma: no cover - older SDK releases
    import httpcore  # type: ignore[no-redef]
    import httpx  # type: ignore[no-redef]

from planner.providers.base import BadResponse, PermanentError

log = logging.getLogger(__name__)
_local = threading.local()


@contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Every socket operation of this thread inside the block must finish within `seconds` in total."""
    previous = getattr(_local, "deadline", None)
    _local.deadline = time.monotonic() + seconds
    try:
        yield
    finally:
        _local.deadline = previous


def _bound(timeout: float | None, error: type[Exception]) -> float | None:
    ends = getattr(_local, "deadline", None)
    if ends is None:
        return timeout
    left = ends - time.monotonic()
    if left <= 0:
        raise error("the request's total time limit (--timeout) passed")
    return left if timeout is None else min(timeout, left)


class _Stream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _bound(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _bound(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(self, ssl_context: Any, server_hostname: str | None = None,
                  timeout: float | None = None) -> httpcore.NetworkStream:
        return _Stream(self._inner.start_tls(ssl_context, server_hostname, _bound(timeout, httpcore.ConnectTimeout)))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _Backend(httpcore.NetworkBackend):
    def __init__(self, inner: httpcore.NetworkBackend) -> None:
        self._inner = inner

    def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                    socket_options: Any = None) -> httpcore.NetworkStream:
        bounded = _bound(timeout, httpcore.ConnectTimeout)
        return _Stream(self._inner.connect_tcp(host, port, bounded, local_address, socket_options))

    def connect_unix_socket(self, path: str, timeout: float | None = None,
                            socket_options: Any = None) -> httpcore.NetworkStream:
        bounded = _bound(timeout, httpcore.ConnectTimeout)
        return _Stream(self._inner.connect_unix_socket(path, bounded, socket_options))

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def client(timeout: float) -> httpx.Client:
    """An HTTP client for an SDK: per-operation timeouts, the deadline backend, no redirects.

    Proxies from the environment are kept (httpx mounts a transport per proxy); each
    transport's connection pool gets the deadline-aware network backend.
    """
    http = httpx.Client(timeout=timeout, follow_redirects=False, trust_env=True,
                        limits=httpx.Limits(max_connections=200, max_keepalive_connections=50))
    for transport in [http._transport, *http._mounts.values()]:  # noqa: SLF001 - no public hook exists
        pool = getattr(transport, "_pool", None)
        if pool is None or not hasattr(pool, "_network_backend"):
            raise RuntimeError("this httpx release has no connection pool to bound; pin the tested SDK versions")
        pool._network_backend = _Backend(pool._network_backend)  # noqa: SLF001
    return http


def retry_after_seconds(headers: Any) -> float | None:
    """Seconds the server asked us to wait: Retry-After (seconds or an HTTP date) or retry-after-ms.

    Nonsense (nan, infinity, negative, unparseable) is ignored, so the backoff applies.
    """
    if headers is None:
        return None
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        raw = headers.get(name)
        if not raw:
            continue
        try:
            value = float(raw) * scale
        except ValueError:
            value = _http_date_seconds(raw) if scale == 1.0 else None
        if value is not None and math.isfinite(value) and value >= 0:
            return value
    return None


def _http_date_seconds(raw: str) -> float | None:
    try:
        when = parsedate_to_datetime(raw)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def parse_body(raw: bytes, what: str) -> Any:
    """The JSON an API answered with, or an error that says what the server sent instead."""
    stripped = raw.strip()
    if not stripped:
        raise BadResponse(f"{what}: the server answered with an empty body")
    try:
        text = stripped.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadResponse(f"{what}: the answer is not UTF-8 text (bad byte at offset {exc.start})") from None
    if text[:1] == "<" or text[:15].lower().startswith("<!doctype"):
        raise PermanentError(f"{what}: the server answered with an HTML page, not the API's JSON; check that the "
                             "base URL points at the API itself (it usually ends in /v1)")
    try:
        return json.loads(text)
    except RecursionError:
        raise PermanentError(f"{what}: the answer is JSON nested too deeply to be an API answer") from None
    except ValueError:
        raise BadResponse(f"{what}: the answer is not JSON") from None
