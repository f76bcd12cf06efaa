"""Cards in, cards out: import card files as trajectories, and rebuild every derived file.

Neither step calls a model. One bad file is reported and counted but never stops the
others, so a folder of two thousand cards with one broken card still imports.
Regenerating writes a file only when its content changed (an unchanged tree of
thousands of cards costs reads, not thousands of flushed renames) and deletes only
stale pages it made itself.
"""

from __future__ import annotations

import gc
import hashlib
import logging
import multiprocessing
import os
import signal
import sys
import threading
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import repeat
from pathlib import Path

from planner import __version__
from planner.cards.card import read_card_file, write_card
from planner.cards.index import build_grids, render_index
from planner.cards.site import render_page
from planner.cards.sitebuild import write_site
from planner.cards.store import (
    Derived,
    json_path,
    load_trajectory,
    load_trajectory_bytes,
    relative_name,
    save_trajectory,
    trajectory_files,
    write_if_changed,
)
from planner.core.schema import Trajectory
from planner.errors import PlannerError, UsageError
from planner.inputs import resolves_inside

log = logging.getLogger(__name__)
NOT_CARDS = {".json", ".jsonl", ".html", ".png", ".pdf"}  # what a planner output folder holds besides cards
NOT_CARD_NAMES = {"trajectories.md", "README.md", "report.md"}
SKIPPED_FOLDERS = {"site", "eval", "export"}
PARALLEL_FROM = 300  # stale cards below which rendering stays in this process
MAX_WORKERS = 8


@dataclass
class Summary:
    done: int = 0
    unchanged: int = 0
    failed: list[str] = field(default_factory=list)
    warnings: int = 0

    def fail(self, message: str) -> None:
        self.failed.append(message)
        log.error("%s", message)


def card_files(paths: Iterable[Path]) -> list[Path]:
    """Card files in the given files and folders (recursively): not hidden, not links out of the folder,
    and not what a planner output folder holds besides cards (JSON, pages, index, reports)."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            for p in sorted(path.rglob("*")):
                rel = p.relative_to(path).parts
                if (any(part.startswith(".") for part in rel) or rel[0] in SKIPPED_FOLDERS
                        or p.suffix.lower() in NOT_CARDS or p.name in NOT_CARD_NAMES or not p.is_file()):
                    continue
                if not resolves_inside(p, path):
                    log.warning("%s: skipped, a link that points outside %s", p, path)
                    continue
                files.append(p)
        elif path.exists():
            files.append(path)
        else:
            raise UsageError(f"{path}: no such file or folder; give card files or folders of cards")
    return files


def _import_one(path: Path, out: Path, force: bool) -> tuple[Trajectory, bool]:
    """Store one card's trajectory; (trajectory, False) when an identical one is stored already."""
    t = read_card_file(path)
    target = json_path(out, t)
    if target.is_file():
        try:
            stored = load_trajectory(target)
        except PlannerError:
            stored = None
        same = stored is not None and (stored.model, stored.paper, stored.task, stored.plan) == (
            t.model, t.paper, t.task, t.plan)
        if same:
            return stored, False
        if not force:
            what = "a planned trajectory (with its cost and provenance)" if stored and stored.provenance.provider \
                else "another trajectory"
            raise PlannerError(f"{path}: {target} already holds {what}; use --force to replace it with this card")
    save_trajectory(out, t, write_card(t))
    return t, True


def import_cards(paths: list[Path], out: Path, force: bool = False) -> Summary:
    """Read each card and store it as `<out>/.../<paper>.json` beside its regenerated card."""
    summary = Summary()
    for path in card_files(paths):
        try:
            t, written = _import_one(path, out, force)
        except PlannerError as exc:
            summary.fail(str(exc))
            continue
        if not written:
            summary.unchanged += 1
            continue
        for warning in t.provenance.warnings:
            log.warning("%s: breaks the strict rules for new plans: %s", path, warning)
        summary.warnings += len(t.provenance.warnings)
        summary.done += 1
    return summary


def load_all(out: Path, summary: Summary, digests: list[str] | None = None) -> list[Trajectory]:
    """Every stored trajectory; `digests` (when given) receives each one's content hash, in the same order."""
    trajectories, root = [], str(out)
    for path in trajectory_files(out):
        try:
            with open(path, "rb") as fh:
                raw = fh.read()
            t = load_trajectory_bytes(path, raw)
            if os.path.join(root, relative_name(t) + ".json") != path:
                raise PlannerError(f"{path}: its fields name another place ({json_path(out, t)}); fix or remove it")
        except PlannerError as exc:
            summary.fail(str(exc))
            continue
        except OSError as exc:
            summary.fail(f"{path}: cannot read ({exc.strerror})")
            continue
        if digests is not None:
            digests.append(hashlib.sha256(RENDERER + raw).hexdigest())
        trajectories.append(t)
    return trajectories


def _renderer() -> bytes:
    """What the derived files depend on besides their inputs: our version and the site's templates and script."""
    parts = [__version__.encode()]
    parts += [p.read_bytes() for p in sorted((Path(__file__).parent / "templates").iterdir()) if p.is_file()]
    return hashlib.sha256(b"\0".join(parts)).digest()


RENDERER = _renderer()


def _derive(out: Path, rel: str, t: Trajectory, card: bool, page: bool) -> tuple[bool, str | None]:
    """Write the card and/or the page of one trajectory: (card left as it was?, error or None)."""
    unchanged = True
    try:
        if card:
            unchanged = not write_if_changed(out / f"{rel}.md", write_card(t))
        if page:
            write_if_changed(out / "site" / f"{rel}.html", render_page(t))
    except PlannerError as exc:
        return unchanged, str(exc)
    return unchanged, None


def _derive_chunk(out: Path, items: list[tuple[str, Trajectory, bool, bool]]) -> list[tuple[bool, str | None]]:
    return [_derive(out, *item) for item in items]


def _derive_all(out: Path, items: list[tuple[str, Trajectory, bool, bool]]) -> list[tuple[bool, str | None]]:
    """Render and write what is stale, in worker processes when there is enough of it.

    Rendering (markdown and templates) is CPU-bound pure Python, so a sweep's thousands of
    new cards and pages go to one process per core. Workers are forked, and only while this
    process has no other thread (a fork copies no thread but every lock) and only on Linux:
    spawned workers would re-import the caller's main script, which in someone's unguarded
    script could mean paying for its model calls again. A pool that cannot start or breaks
    falls back to this process; every write is idempotent, so redoing a chunk is safe.
    """
    workers = min(os.cpu_count() or 1, MAX_WORKERS)
    forkable = sys.platform == "linux" and threading.active_count() == 1
    if len(items) < PARALLEL_FROM or workers < 2 or not forkable:
        return _derive_chunk(out, items)
    size = -(-len(items) // (workers * 8))  # small chunks: an uneven one holds up neither the rest nor a Ctrl-C
    chunks = [items[i:i + size] for i in range(0, len(items), size)]
    try:
        pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"),
                                   initializer=signal.signal, initargs=(signal.SIGINT, signal.SIG_IGN))
    except OSError as exc:
        log.warning("rendering in one process: no worker pool (%s)", exc)
        return _derive_chunk(out, items)
    try:
        return [r for chunk in pool.map(_derive_chunk, repeat(out), chunks) for r in chunk]
    except (OSError, BrokenProcessPool) as exc:
        log.warning("rendering in one process: the worker pool failed (%s)", exc)
        return _derive_chunk(out, items)
    finally:
        # Ctrl-C reaches only this process (workers ignore it, so none dies mid-write): chunks not
        # yet started are dropped, the ones under way finish.
        pool.shutdown(cancel_futures=True)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Hold off Python's cyclic garbage collector while tens of thousands of trajectories are loaded.

    Every object they are made of lives until the end, yet each collection walks all of them
    again: at 10,000 cards that was more than half of an unchanged regenerate. Nothing made
    here forms a reference cycle that needs freeing early. At the end the survivors go straight
    to the oldest generation (freeze, then unfreeze: two list moves) instead of being walked
    once more by the young generation's collection that re-enabling would start at once.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        gc.unfreeze()
        if was_enabled:
            gc.enable()


def regenerate(out: Path) -> tuple[Summary, list[Trajectory]]:
    """Rewrite every card, the markdown index and the site from the stored trajectories (and the
    latest evaluation of each task, which the site shows).

    A card or page whose inputs and renderer are unchanged, and which nobody has touched
    since it was written, is neither rendered nor written again.
    """
    if not out.is_dir():
        raise UsageError(f"{out}: no such folder; run import-cards or run first, or pass --out")
    with _collector_paused():
        return _regenerate(out)


def _regenerate(out: Path) -> tuple[Summary, list[Trajectory]]:
    summary = Summary()
    digests: list[str] = []
    trajectories = load_all(out, summary, digests)
    derived = Derived(out)
    stale: list[tuple[str, Trajectory, bool, bool]] = []
    for t, digest in zip(trajectories, digests):
        rel = relative_name(t)
        stale.append((rel, t, not derived.fresh(f"{rel}.md", digest), not derived.fresh(f"site/{rel}.html", digest)))
    results = iter(_derive_all(out, [item for item in stale if item[2] or item[3]]))
    kept, kept_digests = [], {}
    for (rel, t, card, page), digest in zip(stale, digests):
        unchanged, error = next(results) if card or page else (True, None)
        if error:
            summary.fail(error)
            continue
        summary.unchanged += unchanged
        for key, written in ((f"{rel}.md", card), (f"site/{rel}.html", page)):
            if written:
                derived.note(key, digest)
            else:
                derived.keep(key)
        kept.append(t)
        kept_digests[id(t)] = digest
        summary.done += 1
    grids = build_grids(kept)
    derived.write("trajectories.md", render_index(grids, len(kept)), "index")
    write_site(grids, len(kept), kept_digests, derived, RENDERER)
    derived.finish()
    return summary, kept
