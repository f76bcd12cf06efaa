"""Where trajectories, cards and derived files live under the output folder, and how they are written.

Layout under DIR (default `outputs`):
  lm-planner/<slug>/<paper>.md / .json            author-task cards and their trajectories
  reviewer/lm-planner/<slug>/<paper>.md / .json   reviewer-task cards and their trajectories
  trajectories.md                                 the papers x models index
  site/                                           the browsable HTML site

Every write is atomic (a kill at any moment leaves the old file or the whole new
one) and goes through `outdir.check_target`, which refuses links. Names become path
segments only if a file system takes them as one name: no separators, no `..`, no
control characters, not hidden, not reserved for our own folders.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Iterator
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
        with os.fdopen(fd, "wb") as fh:
            fh.write(data.encode("utf-8") if isinstance(data, str) else data)
            if durable:
                fh.flush()
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_if_changed(path: Path, data: str) -> bool:
    """Write only when the content differs: replacing a file by rename makes ext4 flush it, and
    thousands of such flushes stall a regenerate that changed nothing. True when written."""
    check_target(path)
    encoded = data.encode("utf-8")
    try:
        if path.stat().st_size == len(encoded) and path.read_bytes() == encoded:
            return False
    except OSError:
        pass
    _replace(path, data, durable=False)
    return True


def remove_derived(path: Path) -> None:
    """Delete a file planner made (callers pass only paths from the derived-files record)."""
    check_target(path)
    if path.is_file() and not path.is_symlink():
        path.unlink()


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


def trajectory_files(out: Path) -> Iterator[Path]:
    """Every stored trajectory JSON (`<planner>/<slug>/<paper>.json`, and the same under `reviewer/`),
    in a stable order; links and hidden files are never followed."""
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
                    yield Path(slug.path, name)


def load_trajectory(path: Path) -> Trajectory:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise PlannerError(f"{path}: cannot read ({exc.strerror})") from None
    return load_trajectory_bytes(path, raw)


def load_trajectory_bytes(path: Path, raw: bytes) -> Trajectory:
    try:
        return Trajectory.model_validate_json(raw)
    except ValueError as exc:
        first = str(exc).splitlines()
        raise PlannerError(f"{path}: not a trajectory JSON file ({' '.join(first[:3])[:200]})") from None


def derived_manifest(out: Path) -> Path:
    return out / STATE / "derived.json"


def previously_derived(out: Path) -> dict[str, list]:
    """What the last regenerate wrote: relative path -> [input digest, size, mtime_ns] of the file."""
    try:
        record = json.loads(derived_manifest(out).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(record, dict):
        return {}
    return {k: v for k, v in record.items() if isinstance(k, str) and ".." not in Path(k).parts
            and isinstance(v, list) and len(v) == 3}


def record_derived(out: Path, record: dict[str, list]) -> None:
    write_if_changed(derived_manifest(out), json.dumps(dict(sorted(record.items())), ensure_ascii=False) + "\n")
