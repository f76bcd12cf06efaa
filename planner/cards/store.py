"""Where trajectories, cards and derived files live under the output folder, and how they are written.

Layout under DIR (default `outputs`):
  lm-planner/<slug>/<paper>.md / .json            author-task cards and their trajectories
  reviewer/lm-planner/<slug>/<paper>.md / .json   reviewer-task cards and their trajectories
  trajectories.md                                 the papers x models index
  site/                                           the browsable HTML site

Every write under the output folder goes through this module (tests/test_architecture.py
checks that nothing outside planner.cards opens a file for writing). A write is atomic
(a kill at any moment leaves the old file or the whole new one), goes through
`outdir.check_target`, which refuses links, and never changes a file in place that has
another hard link (a `cp -al` backup would change with it): such a file is replaced,
never rewritten. New files get the mode the umask allows, as any file tool's do. Names
become path segments only if a file system takes them as one name: no separators, no
`..`, no control characters, not hidden, not reserved for our own folders.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import stat
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

from planner.cards.outdir import STATE, check_target
from planner.core.schema import Trajectory
from planner.errors import PlannerError, UsageError

TMP_PREFIX = ".planner-tmp-"
RESERVED = {"site", "eval", "export", "reviewer", STATE, "trajectories.md", "failures.jsonl"}
_RESERVED_FOLDED = {r.casefold() for r in RESERVED}
MAX_NAME_BYTES = 240  # a file name may hold 255 bytes; leave room for ".json" and temp prefixes
_FORBIDDEN = re.compile(r"[/\\\x00-\x1f\x7f\u2028\u2029]")
_append_lock = threading.Lock()


def _read_umask() -> int:
    """The process umask, read without changing it: Linux shows it in /proc/self/status. Elsewhere it is
    set and restored once, here at import, before any thread of ours creates a file."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


FILE_MODE = 0o666 & ~_read_umask()  # what open() would give a new file: mkstemp's 0600 is not the user's choice


def safe_segment(name: str, what: str) -> str:
    """Refuse any name that could leave the output folder, hide, or not be one file name."""
    problem = None
    if not name or name != name.strip():
        problem = "is empty or starts or ends with a space"
    elif _FORBIDDEN.search(name) or ".." in name:
        problem = "holds a path separator, '..' or a control character"
    elif name.startswith("."):
        problem = "starts with '.' (hidden files are not read back)"
    elif len(name.encode("utf-8")) > MAX_NAME_BYTES:
        problem = f"is longer than {MAX_NAME_BYTES} bytes"
    elif name.casefold() in _RESERVED_FOLDED:
        problem = "is reserved for planner's own folders"
    if problem:
        raise UsageError(f"{what} {name[:80]!r} cannot be used as a file name: it {problem}")
    return name


@lru_cache(maxsize=65536)
def relative_base(planner: str, slug: str, paper: str, task: str) -> str:
    """A trajectory's files relative to the output folder, without the suffix; every name checked once."""
    parts = [safe_segment(planner, "planner"), safe_segment(slug, "model"), safe_segment(paper, "paper")]
    return "/".join((["reviewer"] if task != "author" else []) + parts)


def relative_name(t: Trajectory) -> str:
    """Where a trajectory's files are, relative to the output folder (or to `site/` for its page), without
    the suffix (`.md` card, `.json` data, `.html` page)."""
    return relative_base(t.planner, t.slug, t.paper, t.task)


def card_path(out: Path, t: Trajectory) -> Path:
    return out / (relative_name(t) + ".md")


def json_path(out: Path, t: Trajectory) -> Path:
    return out / (relative_name(t) + ".json")


def atomic_write(path: Path, data: str | bytes, durable: bool = False) -> None:
    """Write `data` so that readers (and a kill) see either the old file or the whole new one.

    The temp file sits beside the target under a unique name (a rename is atomic only
    within one file system); one orphaned by SIGKILL is removed by `sweep_temp_files`.
    `durable` adds an fsync so the data also survives a power cut: worth it for what
    was paid for with model calls, not for files regenerated from it.
    """
    check_target(path)
    _replace(path, data, durable)


def _replace(path: Path, data: str | bytes, durable: bool) -> None:
    """atomic_write for a target `check_target` has already passed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=TMP_PREFIX)
    try:
        os.fchmod(fd, FILE_MODE)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data.encode("utf-8") if isinstance(data, str) else data)
            if durable:
                fh.flush()
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_if_changed(path: Path, data: str | bytes) -> bool:
    """Write only when the content differs: replacing a file by rename makes ext4 flush it, and
    thousands of such flushes stall a regenerate that changed nothing. True when written."""
    check_target(path)
    encoded = data.encode("utf-8") if isinstance(data, str) else data
    try:
        if path.stat().st_size == len(encoded) and path.read_bytes() == encoded:
            return False
    except OSError:
        pass
    _replace(path, encoded, durable=False)
    return True


def append_text(path: Path, text: str) -> None:
    """Add `text` at the end of `path`, in one write so concurrent lines stay whole.

    The file is opened without following a link and without waiting on a FIFO; a file
    with another hard link is not written in place but replaced by a copy with the text
    added, so the other name keeps what it held.
    """
    check_target(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = text.encode("utf-8")
    with _append_lock:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC,
                     0o666)
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                raise UsageError(f"{path} is not a regular file; planner writes only files it made")
            if info.st_nlink == 1:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view):]
                return
        finally:
            os.close(fd)
        _replace(path, path.read_bytes() + data, durable=False)


def remove_file(path: Path) -> None:
    """Delete a file planner made (callers pass only paths of their own files: derived pages, cache entries)."""
    check_target(path)
    if path.is_file() and not path.is_symlink():
        path.unlink()


LOCK, HOLDER = "lock", "holder.json"


def _holder(out: Path) -> str:
    try:
        info = json.loads((out / STATE / HOLDER).read_text(encoding="utf-8"))
        started = time.strftime("%H:%M:%S", time.localtime(info["started"]))
        return f"pid {info['pid']} ({info['command']}, started {started})"
    except (OSError, ValueError, KeyError, TypeError):
        return "another planner run"


@contextmanager
def lock(out: Path, command: str, on_wait: Callable[[str], None]) -> Iterator[None]:
    """Hold the folder's lock for the block; if another run holds it, say who and wait for it.

    The lock file is opened read-only and never written (a lock file hard-linked to a file
    elsewhere must not be emptied); who holds it is written beside it, by replacement.
    """
    path = out / STATE / LOCK
    check_target(path)
    fd = os.open(path, os.O_RDONLY | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, 0o666)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise UsageError(f"{path} is not a regular file; move it aside (planner keeps its lock there)")
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            on_wait(f"{out} is in use by {_holder(out)}; waiting for it to finish (Ctrl-C to stop)")
            fcntl.flock(fd, fcntl.LOCK_EX)
        atomic_write(out / STATE / HOLDER, json.dumps({"pid": os.getpid(), "command": command,
                                                         "started": time.time()}))
        try:
            yield
        finally:
            remove_file(out / STATE / HOLDER)
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def sweep_temp_files(out: Path) -> int:
    """Remove temp files a killed run left under `out` (call only while holding the folder's lock)."""
    removed = 0
    if out.is_dir():
        for stray in out.rglob(f"{TMP_PREFIX}*"):
            if stray.is_file() and not stray.is_symlink():
                stray.unlink(missing_ok=True)
                removed += 1
    return removed


def save_trajectory(out: Path, t: Trajectory, card_text: str) -> Path:
    """Write the trajectory's JSON, then its card; returns the card's path."""
    atomic_write(json_path(out, t), t.to_json(), durable=True)
    path = card_path(out, t)
    atomic_write(path, card_text)
    return path


def _folders(path: str) -> Iterator[os.DirEntry]:
    """The sub-folders of `path` that are real folders: no links, nothing hidden."""
    try:
        with os.scandir(path) as entries:
            found = [e for e in entries if not e.name.startswith(".") and e.is_dir(follow_symlinks=False)]
    except OSError:
        return iter(())
    return iter(sorted(found, key=lambda e: e.name))


def trajectory_files(out: Path) -> Iterator[str]:
    """Every stored trajectory JSON (`<planner>/<slug>/<paper>.json`, and the same under `reviewer/`),
    in a stable order, as `os.path.join(str(out), relative name)`; links and hidden files are never followed."""
    tops = [(str(out), RESERVED)]
    reviewer = os.path.join(str(out), "reviewer")
    if os.path.isdir(reviewer) and not os.path.islink(reviewer):
        tops.append((reviewer, set()))
    for top, skip in tops:
        for planner in _folders(top):
            if planner.name in skip:
                continue
            for slug in _folders(planner.path):
                with os.scandir(slug.path) as entries:
                    names = sorted(e.name for e in entries if e.name.endswith(".json") and not e.name.startswith(".")
                                   and e.is_file(follow_symlinks=False))
                for name in names:
                    yield os.path.join(slug.path, name)


def load_trajectory(path: Path) -> Trajectory:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise PlannerError(f"{path}: cannot read ({exc.strerror})") from None
    return load_trajectory_bytes(path, raw)


def load_trajectory_bytes(path: Path | str, raw: bytes) -> Trajectory:
    try:
        return Trajectory.model_validate_json(raw)
    except ValueError as exc:
        first = str(exc).splitlines()
        raise PlannerError(f"{path}: not a trajectory JSON file ({' '.join(first[:3])[:200]})") from None


def derived_manifest(out: Path) -> Path:
    return out / STATE / "derived.json"


class Derived:
    """What regenerate wrote, kept in `.planner/derived.json`: relative path -> [input digest, size, mtime_ns].

    A file is fresh when it was written from the same input digest and nobody has touched it
    since (same size and mtime): it is then neither rendered nor written again. At the end,
    site files recorded last time but not this time are deleted: only files planner made.
    Paths are joined as strings: at 20,000 cards pathlib costs more than the stat itself.
    """

    def __init__(self, out: Path) -> None:
        self.out, self._root = out, str(out)
        self.previous = self._read()
        self.record: dict[str, list] = {}

    def _read(self) -> dict[str, list]:
        try:
            record = json.loads(derived_manifest(self.out).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        if not isinstance(record, dict):
            return {}
        return {k: v for k, v in record.items() if isinstance(k, str) and ".." not in k.split("/")
                and isinstance(v, list) and len(v) == 3}

    def fresh(self, key: str, digest: str) -> bool:
        """True when `out/key` was written from exactly this input and is as it was left."""
        previous = self.previous.get(key)
        if not previous or previous[0] != digest:
            return False
        try:
            stat = os.stat(os.path.join(self._root, key))
        except OSError:
            return False
        return [stat.st_size, stat.st_mtime_ns] == previous[1:]

    def keep(self, key: str) -> None:
        """Record a file `fresh` found unchanged, as it was."""
        self.record[key] = self.previous[key]

    def note(self, key: str, digest: str) -> None:
        """Record a file just written (or found to hold the right content) from `digest`."""
        stat = os.stat(os.path.join(self._root, key))
        self.record[key] = [digest, stat.st_size, stat.st_mtime_ns]

    def write(self, key: str, data: str | bytes, digest: str) -> None:
        write_if_changed(self.out / key, data)
        self.note(key, digest)

    def finish(self) -> None:
        """Delete the site files that are no longer derived from anything, then save the record."""
        for gone in set(self.previous) - set(self.record):
            if gone.startswith("site/"):
                remove_file(self.out / gone)
        write_if_changed(derived_manifest(self.out),
                         json.dumps(dict(sorted(self.record.items())), ensure_ascii=False) + "\n")
