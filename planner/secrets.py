"""Secrets, and keeping them out of everything we write or print.

Keys come from the environment and credentials can hide in URLs (`--base-url`,
`*_BASE_URL`, proxy variables), sometimes as their HTTP Basic-auth base64 form. Every
message, log line and record goes through `redact` before it leaves the process, and
`redact` runs on the whole text before anything shortens it, so a cut can never
leave half a key behind. Fragments count too: any 8 or more consecutive characters
of a long secret are removed, because servers echo keys partly ("sk-...abcd1234").
"""

from __future__ import annotations

import base64
import os
import re
import threading
from urllib.parse import unquote, urlsplit

KEY_VARIABLES = ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "OPENROUTER_API_KEY")
URL_VARIABLES = ("OPENAI_BASE_URL", "ANTHROPIC_BASE_URL", "OPENROUTER_BASE_URL", "HTTP_PROXY", "HTTPS_PROXY",
                 "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")
MASK = "[redacted]"
FRAGMENT = 8  # shortest run of a secret's characters that counts as leaking it
_KEYLIKE = re.compile(r"\b(?:sk|sk-ant|sk-or|sk-proj|key)-[A-Za-z0-9_\-*.]{6,}")
_URL_CREDENTIALS = re.compile(r"(?<=://)[^/@\s]*:[^/@\s]*@|(?<=://)[^/@:\s]+@")

_lock = threading.Lock()
_extra: set[str] = set()


def url_secrets(url: str | None) -> set[str]:
    """The user name, password and their Basic-auth form inside a URL (none for a plain URL)."""
    if not url:
        return set()
    try:
        parts = urlsplit(url.strip())
        user, password = parts.username, parts.password
    except ValueError:
        return set()
    found = {s for s in (user, password) if s}
    for raw in found.copy():
        found.add(unquote(raw))
    if user is not None and password is not None:
        for u, p in ((user, password), (unquote(user), unquote(password))):
            found.add(base64.b64encode(f"{u}:{p}".encode()).decode())
    return found


def register_url(url: str | None) -> None:
    """Remember the credentials inside a URL given on the command line (--base-url) as secrets."""
    with _lock:
        _extra.update(url_secrets(url))


def known() -> list[str]:
    """Every secret we know of right now, longest first (so a longer match wins)."""
    found = set(_extra)
    for var in KEY_VARIABLES:
        value = os.environ.get(var, "").strip()
        if value:
            found.add(value)
    for var in URL_VARIABLES:
        found.update(url_secrets(os.environ.get(var)))
    return sorted((s for s in found if len(s) >= 4), key=len, reverse=True)


def _fragments(text: str, secret: str) -> list[tuple[int, int]]:
    """Spans of `text` that repeat FRAGMENT or more consecutive characters of `secret`."""
    grams = {secret[i:i + FRAGMENT] for i in range(len(secret) - FRAGMENT + 1)}
    spans: list[tuple[int, int]] = []
    for i in range(len(text) - FRAGMENT + 1):
        if text[i:i + FRAGMENT] in grams:
            if spans and spans[-1][1] >= i:
                spans[-1] = (spans[-1][0], i + FRAGMENT)
            else:
                spans.append((i, i + FRAGMENT))
    return spans


def redact(text: str) -> str:
    """`text` with every known secret, fragment of one, URL credential and key-shaped token removed."""
    if not text:
        return text
    for secret in known():
        text = text.replace(secret, MASK)
        if len(secret) >= 2 * FRAGMENT:
            for start, end in reversed(_fragments(text, secret)):
                text = text[:start] + MASK + text[end:]
    text = _URL_CREDENTIALS.sub(MASK + "@", text)
    return _KEYLIKE.sub(MASK, text)


def public_url(url: str) -> str:
    """A URL fit to show or store: credentials removed, everything else kept."""
    try:
        parts = urlsplit(url)
        if parts.username is None and parts.password is None:
            return url
        netloc = (parts.hostname or "") + (f":{parts.port}" if parts.port else "")
    except ValueError:
        return redact(url)
    return parts._replace(netloc=netloc).geturl()
