"""The output folder (`--out`): claim it, lock it, and never reach outside it.

- A folder is used only when it is new, empty, or already planner output (it holds
  `.planner/`, or the index and trajectory folders an older planner made); anything
  else is refused, so a mistyped --out cannot scatter files into, or delete from, a
  folder of the user's own.
- One run at a time: `store.lock` takes an advisory lock on `.planner/lock` (released
  by the kernel even on SIGKILL); a second run says who holds it and waits.
- Writes never go through a symbolic link below the root: `check_target` refuses a
  target whose folders (or the file itself) are links, so a `site -> /elsewhere`
  link cannot redirect our writes or deletions.
- Derived files (index, site pages) are recorded in `.planner/derived.json`; only
  files listed there are ever deleted as stale.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from planner.errors import UsageError

STATE = ".planner"
_claimed: set[str] = set()
_verified: set[str] = set()  # folders below a claimed root already seen not to be links
_claimed_lock = threading.Lock()


def validate(out: Path | str) -> Path:
    """The --out path, refused when it is empty (which would mean the current folder)."""
    if str(out).strip() in ("", "."):
        raise UsageError("--out must name a folder for planner's files (not '' or the current folder), "
                         "e.g. --out outputs")
    return Path(out)


def _is_ours(out: Path) -> bool:
    if (out / STATE).is_dir():
        return True
    index = out / "trajectories.md"
    if index.is_file():
        try:
            return index.read_text(encoding="utf-8", errors="replace").startswith("# LM-Planner trajectories")
        except OSError:
            return False
    return any((out / name).is_dir() for name in ("lm-planner", "reviewer")) or (out / "failures.jsonl").is_file()


def claim(out: Path, what: str = "--out") -> Path:
    """Make `out` ours (new or empty), or accept it as planner output; check that it is writable."""
    out = validate(out)
    if out.is_symlink() and not out.exists():
        raise UsageError(f"{what} {out} is a broken symbolic link; give a real folder")
    if out.exists() and not out.is_dir():
        raise UsageError(f"{what} {out} is a file, not a folder")
    if out.is_dir() and any(out.iterdir()) and not _is_ours(out):
        sample = sorted(p.name for p in out.iterdir())[:3]
        raise UsageError(f"{what} {out} holds files planner did not make ({', '.join(sample)}); give a new or "
                         "empty folder, or one planner wrote before")
    with _claimed_lock:  # the folder as the caller names it (paths are built from it) and where it really is
        _claimed.update((os.path.abspath(out), str(out.resolve())))
    probe = out / STATE / f"probe-{os.getpid()}-{threading.get_ident()}"
    check_target(probe)  # a linked .planner/ would take our state (and its lock) elsewhere
    try:
        (out / STATE).mkdir(parents=True, exist_ok=True)
        os.close(os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600))
        probe.unlink()
    except OSError as exc:
        raise UsageError(f"{what} {out} is not writable ({exc.strerror}); choose another folder") from None
    return out


def check_target(path: Path) -> None:
    """Refuse to write or delete `path` when a link below its claimed root would redirect it.

    Called for every file written, so it works on strings and remembers folders it has
    already checked (a regenerate touches thousands of files in a few hundred folders).
    """
    absolute = os.path.abspath(path)
    with _claimed_lock:
        roots = [r for r in _claimed if absolute == r or absolute.startswith(r + os.sep)]
    if roots:
        root = max(roots, key=len)
        parent = os.path.dirname(absolute)
        if parent != root and parent not in _verified:
            current = root
            for part in os.path.relpath(parent, root).split(os.sep):
                current = os.path.join(current, part)
                if current not in _verified:
                    if os.path.islink(current):
                        raise UsageError(f"{current} is a symbolic link; planner never writes or deletes through "
                                         f"links inside {root}")
                    if os.path.isdir(current):
                        _verified.add(current)
    if os.path.islink(absolute):
        raise UsageError(f"{path} is a symbolic link; planner does not write through links")
