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
        from planner.inputs import read_user_file

        data = read_user_file(papers_file, "--papers-file", MAX_LIST_BYTES,
                              hint="give a text file with one paper id or path per line")
        try:
            lines = data.decode("utf-8").splitlines()
        except UnicodeDecodeError:
            raise UsageError(f"--papers-file {papers_file}: not UTF-8 text") from None
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
    clients = None if args.cancel else _clients(args, jobs, opts)  # a missing key stops us before --out is touched
    started = time.time()
    with working_in(args.out, "planner batch") as out:
        if args.cancel:
            return _cancel(out, opts.timeout)
        cache = ResponseCache(None if args.no_cache else out / ".cache", newer_than=started if args.force else None)
        summary, todo = _triage(jobs, out, args.force)
        if todo:
            _drive(args, out, todo, cache, summary, opts, clients)
        _print_summary(summary, out)
        if not summary.interrupted:
            refresh(out)
    if summary.interrupted:
        return 130
    if summary.blocked:  # the cards that finished are written; now say what is left
        raise UsageError(summary.blocked)
    return 1 if summary.count("failed") else 0


def _cancel(out: Path, timeout: float | None) -> int:
    """Cancel every unfinished batch the folder's manifest records, whichever models this command names."""
    from planner.run.batching.cancel import cancel_all
    from planner.run.batching.reach import ManifestEngines
    from planner.run.batching.rounds import State
    from planner.run.cache import ResponseCache
    from planner.run.manifest import Manifest

    manifest = Manifest.load(out)
    state = State([], ResponseCache(None), manifest, console.err, engines=ManifestEngines(manifest, timeout))
    cancelled, problems = cancel_all(state)
    for line in problems:
        console.err(line)
    if cancelled:
        console.out(f"cancelled {cancelled} batch(es). What they finished is paid for: the same command without "
                    "--cancel collects it, and sends the cancelled requests again, which buys them again")
    elif not problems:
        console.out("no unfinished batches to cancel")
    return 1 if problems else 0


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
    """Every adapter the jobs need, made up front so that a missing key stops the command at once:
    (synchronous providers by model, batch engines by model). Their SDK clients wait for a request."""
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


def _drive(args: argparse.Namespace, out: Path, todo, cache, summary, opts, clients) -> None:  # type: ignore[no-untyped-def]
    import os

    from planner.run.manifest import Manifest
    from planner.run.sweep import run_batched

    providers, engines = clients
    if args.via == "sync":
        _sync(todo, out, providers, cache, opts, args.concurrency, summary)
        return
    manifest = Manifest.load(out)
    if args.via == "batch-file" and args.emit and args.emit.exists():
        emitted = {os.path.realpath(s.path) for s in manifest.shards.values() if s.path}
        if os.path.realpath(args.emit) not in emitted:
            raise UsageError(f"--emit {args.emit} exists and was not written by planner; choose a new file")
    engines_for = lambda job: engines.get(job.spec.name)  # noqa: E731
    via = args.via
    rest = run_batched(todo, out, engines_for, cache, manifest, wait=not args.no_wait and via == "batch-api",
                       poll_interval=args.poll_interval, show=console.err, summary=summary, via=via,
                       adopt=args.adopt)
    if rest:
        _sync(rest, out, providers, cache, opts, args.concurrency, summary)
    if summary.waiting and not summary.blocked:
        hint = ("run vLLM's run-batch on the emitted file, then this command with --collect RESULTS"
                if via == "batch-file" else "run the same command again to collect them")
        console.out(f"{summary.waiting} job(s) wait for batch answers; {hint}")


def _sync(jobs, out, providers, cache, opts, concurrency, summary) -> None:  # type: ignore[no-untyped-def]
    from planner.run.batching.inflight import guard
    from planner.run.sweep import run_sync

    in_flight = guard(out, cache, opts.timeout, console.err)  # never buy what a batch of this folder is buying
    with console.Progress(len(jobs), "planning") as bar:
        run_sync(jobs, out, providers, cache, opts.retry, concurrency, summary,
                 on_result=lambda r: bar.advance(f"{r.job.name}: {r.status}"), guard=in_flight)


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
