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
    from planner.run.batching.inflight import guard
    from planner.run.sweep import run_one

    provider = make_provider(spec, opts.base_url, opts.timeout)  # a missing key stops us before --out is made
    started = time.time()
    with working_in(args.out, "planner run") as out:
        state, why = on_disk(job, out)
        if state != "todo" and not args.force:
            console.out(f"{job.name}: skipped: {why}")
            return 0 if state == "done" else 1
        cache = ResponseCache(None if args.no_cache else out / ".cache", newer_than=started if args.force else None)
        result = run_one(job, out, provider, cache, opts.retry, guard(out, cache, opts.timeout, console.err))
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
    tokens = job.opts.tokens(job.spec)
    console.err(f"# provider: {job.spec.provider}; model id: {job.spec.api_id}; output mode: {request.mode.value}; "
                f"about {estimate:,} input tokens (4 characters per token); at most {tokens:,} output tokens")
    console.err("# " + _price_line(job.spec, estimate, tokens) + "; nothing was sent or written")
    return 0


def _price_line(spec, input_tokens: int, output_tokens: int) -> str:  # type: ignore[no-untyped-def]
    """Today's list price of the model and what this request costs at most, from genai-prices."""
    from planner.core.messages import Usage
    from planner.prices import list_price, price, source

    listed = list_price(spec.provider, spec.api_id)
    if listed is None or listed.input is None or listed.output is None:
        return f"no list price known for {spec.api_id} in {source()}: its cost will show as unknown"
    most = price(spec.provider, spec.api_id, Usage(input_tokens, output_tokens))
    since = f" since {listed.since}" if listed.since else ""
    bound = f"; this request costs at most ${most:.4f}" if most is not None else ""
    return (f"list price ${listed.input:g} / ${listed.output:g} per million input / output tokens{since} "
            f"({source()}){bound}")
