"""A 5,000-job sweep at rest: how long `planner batch` takes before its first check when every job is
done (target under 0.5 s; building SDK clients up front cost over a second of imports), and what one
status poll of its running batches costs when nothing changed (target: no manifest write at all)."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import ROOT, report

MODELS = 95  # x 53 library papers = 5,035 jobs
POLLS = 20

PROBE = """
import sys, time
started = time.perf_counter()
import planner.cli.batch as command
first_check = []
triage = command._triage
def timed(*args):
    first_check.append(time.perf_counter())
    return triage(*args)
command._triage = timed
from planner.cli.main import main
code = main(sys.argv[1:])
print("RESULT", code, first_check[0] - started, time.perf_counter() - started,
      int("openai" in sys.modules or "anthropic" in sys.modules))
"""


def _finished_sweep(out: Path, models: list[str]) -> int:
    """Every library paper x `models` stored as done (cards and trajectories), as a finished sweep leaves them."""
    from planner.cards.card import read_card_file, write_card
    from planner.cards.outdir import claim
    from planner.cards.store import save_trajectory
    from planner.papers.library import library_ids
    from planner.registry import resolve

    seed = read_card_file(sorted((ROOT / "seeds").glob("*.txt"))[0])
    claim(out)
    count = 0
    for name in models:
        spec = resolve(name)
        for paper in library_ids():
            t = seed.model_copy(update={"model": spec.name, "slug": spec.slug, "paper": paper})
            save_trajectory(out, t, write_card(t))
            count += 1
    return count


def first_check(out: Path, models: list[str]) -> tuple[float, float, bool]:
    """(seconds before the first job is checked, whole command, whether an SDK was imported)."""
    env = {**os.environ, "OPENAI_API_KEY": "bench-key", "OPENAI_BASE_URL": "http://127.0.0.1:9/v1",
           "PYTHONPATH": os.environ.get("PYTHONPATH", str(ROOT))}
    done = subprocess.run([sys.executable, "-c", PROBE, "batch", "--all", "--models", ",".join(models), "--via",
                           "batch-api", "--out", str(out)], env=env, cwd=ROOT, capture_output=True, text=True)
    line = next((x for x in done.stdout.splitlines() if x.startswith("RESULT")), None)
    if line is None:
        raise SystemExit(f"the sweep failed: {done.stderr[-2000:]}")
    _, code, before, whole, imported = line.split()
    assert code == "0", done.stderr[-2000:]
    return float(before), float(whole), imported == "1"


class _Running:
    """A batch engine whose batches are all still running, unchanged: what a poll sees most of the time."""

    provider, endpoint, discount = "openai", "bench", True

    def __init__(self, name: str) -> None:
        self.name = name

    def poll(self, shard):  # type: ignore[no-untyped-def]
        from planner.providers.batch import Poll

        return Poll(status="in_progress", ended=False, counts={"total": len(shard.entries), "completed": 0})


def quiet_polls(out: Path, models: list[str]) -> tuple[float, int, float]:
    """(milliseconds per poll, manifest writes in POLLS polls, milliseconds one durable manifest write takes)
    for one running shard per model."""
    from planner.cards.store import atomic_write
    from planner.papers.library import library_ids
    from planner.providers.batch import Entry, Shard
    from planner.run.batching.collect import poll_once
    from planner.run.batching.rounds import State
    from planner.run.cache import ResponseCache
    from planner.run.manifest import Manifest

    manifest = Manifest.load(out, "bench-batches.json")
    for i, model in enumerate(models):
        entries = {f"r{i:03d}{j:03d}": Entry(key=f"{i:03d}{j:061d}", mode="json_schema", tool="submit_plan",
                                             job=f"{model} on {paper}") for j, paper in enumerate(library_ids())}
        manifest.add(Shard(id=f"s{i}", engine="bench|x", model=model, entries=entries, state="submitted",
                           batch_id=f"batch_{i}"))
    state = State([], ResponseCache(None), manifest)
    state.engines = {"bench|x": _Running("bench|x")}
    poll_once(state)  # the first poll records the status
    writes, last = 0, manifest.path.stat()
    started = time.perf_counter()
    for _ in range(POLLS):
        poll_once(state)
        now = manifest.path.stat()
        writes += (now.st_ino, now.st_mtime_ns) != (last.st_ino, last.st_mtime_ns)
        last = now
    per_poll = (time.perf_counter() - started) / POLLS * 1000
    started = time.perf_counter()
    for _ in range(5):
        atomic_write(manifest.path, manifest.path.read_text(encoding="utf-8"), durable=True)
    return per_poll, writes, (time.perf_counter() - started) / 5 * 1000


def main() -> None:
    models = [f"gpt-bench-{i:02d}" for i in range(MODELS)]
    with tempfile.TemporaryDirectory(dir=ROOT) as tmp:  # on the project's disk, not a tmpfs
        out = Path(tmp) / "out"
        jobs = _finished_sweep(out, models)
        first_check(out, models)  # warm the file cache and the index/site record
        before, whole, imported = first_check(out, models)
        per_poll, writes, per_write = quiet_polls(out, models)
    print(f"{jobs:,} jobs done: {before:.2f} s before the first check, {whole:.2f} s in all "
          f"(triage and the index and site refresh); SDK imported: {'yes' if imported else 'no'}")
    report("finished sweep: time before the first check", before, 0.5, "s")
    print(f"a poll of {len(models)} running batches ({jobs:,} requests) that changes nothing: {per_poll:.1f} ms, "
          f"{writes} manifest write(s) in {POLLS} polls (one durable write of this manifest: {per_write:.1f} ms)")
    print(f"manifest writes per unchanged poll: {writes / POLLS:.2f} (target 0) -> "
          + ("ok" if writes == 0 else "OVER TARGET"))


if __name__ == "__main__":
    main()
