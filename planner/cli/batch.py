"""`planner batch`: many papers x models, synchronously or through the providers' batch engines.

Everything is resolved and checked before anything is sent: papers (each once, clashing
ids made distinct), models (aliases folded), keys, the output folder. Jobs already
done are skipped (and ones stored from a different request are named, not silently
kept); the rest go through the chosen driver; the command ends with a summary of what
was done and what it cost, failed jobs included, and a fresh index and site.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from planner.cli import console
from planner.cli.common import model_specs, plan_options, refresh, split, working_in
from planner.errors import UsageError

MAX_LIST_BYTES = 1_000_000


def paper_refs(papers: str | None, papers_file: Path | None, all_papers: bool) -> list[str]:
    from planner.papers.library import library_ids

    if all_papers:
        return library_ids()
    if papers_file is not None:
        try:
            if not papers_file.is_file():
                raise UsageError(f"--papers-file {papers_file}: not a regular file; give a text file with one paper "
                                 "id or path per line")
            if papers_file.stat().st_size > MAX_LIST_BYTES:
                raise UsageError(f"--papers-file {papers_file}: larger than 1 MB; that is not a list of papers")
            lines = papers_file.read_text(encoding="utf-8").splitlines()
        except UnicodeDecodeError:
            raise UsageError(f"--papers-file {papers_file}: not UTF-8 text") from None
        except OSError as exc:
            raise UsageError(f"--papers-file {papers_file}: cannot read ({exc.strerror})") from None
        refs = [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]
    else:
        refs = split(papers)
    if not refs:
        raise UsageError("no papers given; use --papers a,b, --papers-file FILE or --all")
    return refs


def _check_modes(args: argparse.Namespace) -> None:
    file_mode = args.via == "batch-file"
    if (args.emit or args.collect) and not file_mode:
        raise UsageError("--emit and --collect belong to --via batch-file")
    if file_mode and not (args.emit or args.collect or args.cancel):
        raise UsageError("--via batch-file needs --emit FILE (write requests) and/or --collect FILE (read results)")
    if args.cancel and args.via == "sync":
        raise UsageError("--cancel cancels batches; use it with --via batch-api")


def cmd_batch(args: argparse.Namespace) -> int:
    from planner.papers.library import resolve_all
    from planner.run.cache import ResponseCache
    from planner.run.jobs import make_jobs

    _check_modes(args)
    opts = plan_options(args)
    papers = resolve_all(paper_refs(args.papers, args.papers_file, args.all))
    specs = model_specs(split(args.models), args)
    if args.via == "batch-file" and len(specs) > 1:
        raise UsageError("--via batch-file serves one model per file (vLLM's run-batch loads one model); "
                         "give one model")
    jobs = make_jobs(papers, specs, opts)
    clients = _clients(args, jobs, opts)  # a missing key stops the command before --out is touched
    started = time.time()
    with working_in(args.out, "planner batch") as out:
        cache = ResponseCache(None if args.no_cache else out / ".cache", newer_than=started if args.force else None)
        summary, todo = _triage(jobs, out, args.force)
        if todo or args.cancel:
            code = _drive(args, out, todo, cache, summary, opts, clients)
            if code is not None:
                return code
        _print_summary(summary, out)
        if not summary.interrupted:
            refresh(out)
    if summary.interrupted:
        return 130
    return 1 if summary.count("failed") else 0


def _triage(jobs, out: Path, force: bool):  # type: ignore[no-untyped-def]
    from planner.run.jobs import JobResult, on_disk
    from planner.run.sweep import Summary

    summary = Summary(total=len(jobs))
    todo = []
    for job in jobs:
        state, why = on_disk(job, out) if not force else ("todo", "")
        if state == "todo":
            todo.append(job)
        else:
            summary.results.append(JobResult(job, "skipped", reason=why))
            if state == "different":
                console.err(f"{job.name}: skipped: {why}")
    return summary, todo


def _clients(args: argparse.Namespace, jobs, opts):  # type: ignore[no-untyped-def]
    """Every client the jobs need, made up front: (synchronous providers by model, batch engines by model)."""
    from planner.cards.store import atomic_write
    from planner.providers.batch_file import BatchFile
    from planner.run.sweep import batch_engines, providers_for
    from planner.secrets import public_url

    specs = list({job.spec.name: job.spec for job in jobs}.values())  # each model once
    if args.via == "batch-file":
        endpoint = public_url(opts.base_url) if opts.base_url else "batch-file"
        return {}, {s.name: BatchFile(s, endpoint, args.emit, args.collect, atomic_write) for s in specs}
    engines = batch_engines(specs, opts.base_url, opts.timeout) if args.via == "batch-api" else {}
    return providers_for([s for s in specs if s.name not in engines], opts.base_url, opts.timeout), engines


def _drive(args: argparse.Namespace, out: Path, todo, cache, summary, opts, clients) -> int | None:  # type: ignore[no-untyped-def]
    from planner.run.manifest import Manifest
    from planner.run.sweep import cancel, run_batched

    providers, engines = clients
    if args.via == "sync":
        _sync(todo, out, providers, cache, opts, args.concurrency, summary)
        return None
    manifest = Manifest.load(out)
    if args.via == "batch-file":
        emitted = {s.path for s in manifest.shards.values()}
        if args.emit and args.emit.exists() and str(args.emit) not in emitted:
            raise UsageError(f"--emit {args.emit} exists and was not written by planner; choose a new file")
    engines_for = lambda job: engines.get(job.spec.name)  # noqa: E731
    if args.cancel:
        n = cancel(todo, manifest, engines_for, console.err)
        console.out(f"cancelled {n} batch(es); run the same command again to collect what they finished")
        return 0
    via = args.via
    rest = run_batched(todo, out, engines_for, cache, manifest, wait=not args.no_wait and via == "batch-api",
                       poll_interval=args.poll_interval, show=console.err, summary=summary, via=via)
    if rest:
        _sync(rest, out, providers, cache, opts, args.concurrency, summary)
    if summary.waiting:
        hint = ("run vLLM's run-batch on the emitted file, then this command with --collect RESULTS"
                if via == "batch-file" else "run the same command again to collect them")
        console.out(f"{summary.waiting} job(s) wait for batch answers; {hint}")
    return None


def _sync(jobs, out, providers, cache, opts, concurrency, summary) -> None:  # type: ignore[no-untyped-def]
    from planner.run.sweep import run_sync

    with console.Progress(len(jobs), "planning") as bar:
        run_sync(jobs, out, providers, cache, opts.retry, concurrency, summary,
                 on_result=lambda r: bar.advance(f"{r.job.name}: {r.status}"))


def _print_summary(summary, out: Path) -> None:  # type: ignore[no-untyped-def]
    title = "batch summary" + (" (interrupted)" if summary.interrupted else "")
    not_run = summary.total - len(summary.results) - summary.waiting
    discount = summary.sync_cost - summary.spent_cost
    console.out(console.table(
        ["done", "skipped", "failed", "waiting", "not run", "tokens spent", "cost (USD)", "without batch discount",
         "wall time"],
        [[str(summary.count("done")), str(summary.count("skipped")), str(summary.count("failed")),
          str(summary.waiting), str(not_run), f"{summary.spent_tokens:,}", f"{summary.spent_cost:.4f}",
          f"{summary.sync_cost:.4f}", f"{time.monotonic() - summary.started:.1f}s"]], title))
    if summary.unpriced:
        console.out(f"cost unknown for {summary.unpriced} job(s) (an answer without usage, or a model genai-prices "
                    "does not price); the totals leave them out")
    if summary.via:
        ways = ", ".join(f"{n} via {way}" for way, n in sorted(summary.via.items()))
        saved = f"; the batch discount saved ${discount:.4f}" if discount > 0 else ""
        console.out(f"jobs sent: {ways}{saved}")
    for r in summary.results:
        if r.status == "failed":
            console.err(r.line())
    if summary.count("failed"):
        console.err(f"failures are recorded in {out / 'failures.jsonl'}")
