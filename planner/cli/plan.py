"""`planner run`: one paper, one model; or with --dry-run, the exact request and nothing sent."""

from __future__ import annotations

import argparse
import json
import time

from planner.cli import console
from planner.cli.common import model_specs, plan_options, refresh, working_in


def cmd_run(args: argparse.Namespace) -> int:
    from planner.papers.library import resolve_all
    from planner.run.cache import ResponseCache
    from planner.run.jobs import Job, on_disk

    opts = plan_options(args)
    paper = resolve_all([args.paper])[0]
    spec = model_specs([args.model], args)[0]
    job = Job(paper, spec, opts)
    if args.dry_run:
        return dry_run(job)
    from planner.providers.factory import make_provider
    from planner.run.sweep import run_one

    provider = make_provider(spec, opts.base_url, opts.timeout)  # a missing key stops us before --out is made
    started = time.time()
    with working_in(args.out, "planner run") as out:
        state, why = on_disk(job, out)
        if state != "todo" and not args.force:
            console.out(f"{job.name}: skipped: {why}")
            return 0 if state == "done" else 1
        cache = ResponseCache(None if args.no_cache else out / ".cache", newer_than=started if args.force else None)
        result = run_one(job, out, provider, cache, opts.retry)
        if result.status == "failed":
            console.err(result.line())
            console.err(f"failure recorded in {out / 'failures.jsonl'}")
        else:
            console.out(str(result.card))
            console.out(result.line())
        refresh(out)
    return 0 if result.status == "done" else 1


def dry_run(job) -> int:  # type: ignore[no-untyped-def]
    """Print the exact wire body and a token estimate; needs no key, sends and writes nothing."""
    from planner.providers.factory import adapter

    request = job.conversation().request()
    body = adapter(job.spec).wire_body(job.spec, request)
    console.out(json.dumps(body, indent=2, ensure_ascii=False))
    estimate = len(request.system + "".join(text for _, text in request.messages)) // 4
    console.err(f"# provider: {job.spec.provider}; model id: {job.spec.api_id}; output mode: {request.mode.value}; "
                f"about {estimate:,} input tokens (4 characters per token); at most {job.opts.max_tokens:,} output "
                "tokens; nothing was sent or written")
    return 0
