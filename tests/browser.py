"""A real headless chromium for the site tests: DOM dumps, screenshots, and the console errors of a page.

Console messages (script errors, Content-Security-Policy refusals) reach chromium's log on
stderr with `--enable-logging=stderr`, as `...:CONSOLE:<line>] "<message>", source: <url>`;
chromium's own noise (D-Bus, GPU) has other tags and is ignored.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None and not os.environ.get("CI"), reason="chromium is not installed (CI installs it)"
)
DESKTOP, PHONE = (1400, 1000), (390, 844)
_CONSOLE = re.compile(r":CONSOLE(?:\(\d+\)|:\d+)\] (.*)")


def chromium(profile: Path, *args: str, size: tuple[int, int] = (1000, 1400)) -> subprocess.CompletedProcess:
    assert CHROMIUM, "chromium is required in CI: apt-get install -y chromium"
    flags = [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars",
        "--enable-logging=stderr", "--v=0", f"--user-data-dir={profile / 'profile'}", f"--window-size={size[0]},{size[1]}",
    ]
    return subprocess.run([CHROMIUM, *flags, *args], capture_output=True, text=True, timeout=120)


def console_messages(done: subprocess.CompletedProcess) -> list[str]:
    """What the page wrote to its console: uncaught errors, refused scripts or images, console.error."""
    return [m.group(1) for m in map(_CONSOLE.search, done.stderr.splitlines()) if m]


def dump_dom(profile: Path, url: str, size: tuple[int, int] = DESKTOP) -> tuple[str, list[str]]:
    """The DOM after the page's scripts ran, and its console messages."""
    done = chromium(profile, "--dump-dom", url, size=size)
    return done.stdout, console_messages(done)


def screenshot(profile: Path, url: str, png: Path, size: tuple[int, int]) -> list[str]:
    done = chromium(profile, f"--screenshot={png}", url, size=size)
    assert png.is_file() and png.stat().st_size > 5000, done.stderr[-2000:]
    return console_messages(done)


def pixels(png: Path):
    import numpy as np
    from PIL import Image

    with Image.open(png) as img:
        return np.asarray(img.convert("RGB"), dtype=int)


def count_near(png: Path, rgb: tuple[int, int, int], tol: int = 12) -> int:
    import numpy as np

    return int((np.abs(pixels(png) - np.array(rgb)) <= tol).all(axis=-1).sum())


def stripes(png: Path, rgb: tuple[int, int, int], min_height: int = 150, tol: int = 12) -> int:
    """How many vertical stripes of this colour (a box's left border) stand side by side."""
    import numpy as np

    columns = ((np.abs(pixels(png) - np.array(rgb)) <= tol).all(axis=-1).sum(axis=0) >= min_height)
    return int(np.sum(columns[1:] & ~columns[:-1]) + columns[0])
