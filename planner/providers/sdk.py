"""Glue shared by the adapters that call an official SDK: endpoints, keys, and one raw call.

Adapters hand us the exact wire body; we pass the parameters the SDK method declares
as keyword arguments and the rest as `extra_body` (so a parameter the SDK's typed
signature lacks still reaches the wire unchanged), run the call under the request's
deadline, and parse the raw bytes ourselves (planner.providers.http).
"""

from __future__ import annotations

import inspect
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from planner.errors import UsageError, WorkError
from planner.providers.base import TransientError, classify
from planner.secrets import public_url, redact, register_url

if TYPE_CHECKING:
    from planner.registry import ModelSpec

_RESERVED = {"extra_body", "extra_headers", "extra_query", "timeout"}


@dataclass(frozen=True)
class Endpoint:
    url: str | None  # what the SDK is given (None: the SDK's default)
    key: str | None

    @property
    def public(self) -> str:
        """The base URL without credentials: shown in messages and part of the cache key."""
        return public_url(self.url) if self.url else "default"


def api_key(var: str, required: bool) -> str | None:
    """The key from the environment; a missing required key is a usage error naming the variable."""
    value = os.environ.get(var, "").strip()
    if not value and required:
        raise UsageError(f"{var} is not set; export it (the key is read from the environment only), "
                         "or point --base-url at a local server")
    return value or None


def client(sdk_class: Any, where: Endpoint, timeout: float) -> Any:
    """An SDK client for `where`: our HTTP layer (deadline, no redirects), and no SDK retries
    (planner.providers.retry owns retrying; stacking both would multiply the waits)."""
    from planner.providers import http

    return sdk_class(api_key=where.key or "not-needed", base_url=where.url, timeout=timeout, max_retries=0,
                     http_client=http.client(timeout))


class SdkAdapter:
    """One model behind one SDK client. The two chat adapters are set up alike; each adds only its
    own wire format and error mapping in `complete`.

    The endpoint and key are checked at once (a missing key stops a command before any work); the
    client, and with it the SDK's import (over a second for both), waits until a request is sent, so
    a command that finds nothing to do never pays for it. `sdk_class` gives the client class."""

    def __init__(self, spec: ModelSpec, where: Endpoint, timeout: float, sdk_class: Callable[[], Any]) -> None:
        self.name = spec.provider
        self.spec = spec
        self.endpoint = where.public
        self.timeout = timeout
        self._where, self._sdk_class = where, sdk_class
        self._client: Any = None
        self._client_lock = threading.Lock()

    @property
    def client(self) -> Any:
        with self._client_lock:
            if self._client is None:
                self._client = client(self._sdk_class(), self._where, self.timeout)
            return self._client

    def what(self) -> str:
        return f"{self.name} model {self.spec.api_id}"


def check_base_url(url: str) -> str:
    """Refuse a base URL that cannot work, before anything is sent; remember its credentials as secrets."""
    register_url(url)
    shown = public_url(url)
    try:
        parts = urlsplit(url.strip())
        parts.port  # noqa: B018 - raises ValueError for a port like "80a"
    except ValueError:
        raise UsageError(f"base URL {shown!r} is not a valid URL (check the host and port), "
                         "e.g. http://127.0.0.1:8080/v1") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"base URL {shown!r} must start with http:// or https:// and name a host, "
                         "e.g. http://127.0.0.1:8080/v1")
    return url.strip()


def kwargs_for(method: Callable[..., Any], body: dict[str, Any]) -> dict[str, Any]:
    """Keyword arguments for an SDK method from a wire body; unknown parameters go in extra_body."""
    declared = inspect.signature(method).parameters
    kwargs = {k: v for k, v in body.items() if k in declared and k not in _RESERVED}
    extra = {k: v for k, v in body.items() if k not in kwargs}
    if extra:
        kwargs["extra_body"] = extra
    return kwargs


def call_raw(create: Callable[..., Any], kwargs: dict[str, Any], timeout: float, what: str, sdk: ModuleType) -> Any:
    """Call a `with_raw_response` method within the deadline; the parsed JSON body, or a clear error.

    Status errors (`sdk.APIStatusError`) propagate for the adapter to classify.
    """
    from planner.providers import http

    with http.deadline(timeout):
        try:
            content = raw_bytes(create(**kwargs))
        except sdk.APITimeoutError:
            raise TransientError(f"{what}: no complete answer within --timeout {timeout:g}s") from None
        except sdk.APIConnectionError as exc:
            cause = exc.__cause__ or exc
            raise TransientError(f"{what}: connection failed ({redact(str(cause))[:200]})") from None
    return http.parse_body(content, what)


def raw_bytes(response: Any) -> bytes:
    """The body of a raw SDK response (openai's legacy wrapper has `.content`, anthropic's has `.read()`)."""
    return response.read() if hasattr(response, "read") else response.content


def status_message(exc: Any) -> str:
    """The server's own error message from an SDK status error (redacted later, before any cut)."""
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        error = body.get("error", body)
        if isinstance(error, dict) and isinstance(error.get("message"), str):
            return error["message"]
    return str(getattr(exc, "message", exc))


def status_error(exc: Any, what: str, retired: str | None = None) -> WorkError:
    """An SDK status error as ours, sorted like any HTTP failure: the server's message, its Retry-After."""
    from planner.providers.http import retry_after_seconds

    headers = getattr(getattr(exc, "response", None), "headers", None)
    return classify(exc.status_code, status_message(exc), retry_after_seconds(headers), what, retired)
