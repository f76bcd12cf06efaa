"""One handler per CLI command. Each imports its stage when called, keeping start-up light.

Handlers print through planner.console (redacted, control characters escaped) and
return the exit code; errors travel as PlannerError up to `cli.main`, which prints
them as one line. Every command that writes claims and locks its output folder first.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from planner import console
from planner.commands_eval import cmd_eval  # noqa: F401  (dispatched by name)
from planner.errors import UsageError


@contextmanager
def working_in(out_arg: str | Path, command: str, missing: str | None = None) -> Iterator[Path]:
    """Claim the output folder, hold its lock for the command, and clear what killed runs left.

    A command that only reads what earlier ones wrote passes `missing` (what to run first): a folder
    that does not exist is then an error instead of being created empty."""
    from planner import outdir
    from planner.store import sweep_temp_files

    if missing is not None and not Path(out_arg).is_dir():
        raise UsageError(f"{out_arg}: no such folder; {missing}")
    out = outdir.claim(Path(out_arg))
    with outdir.lock(out, command, console.err):
        sweep_temp_files(out)
        yield out


def plan_options(args: argparse.Namespace):
    from planner.planning import PlanOptions

    opts = PlanOptions(task=args.task, count=args.num_ablations, temperature=args.temperature,
                       max_repairs=args.max_repairs, prompts=args.prompts, base_url=args.base_url,
                       timeout=args.timeout, seed=args.seed, max_tokens=args.max_tokens)
    opts.n  # noqa: B018 - validates --num-ablations up front
    return opts


def _specs(names: list[str], args: argparse.Namespace):
    from dataclasses import replace

    from planner.providers.sdk import check_base_url
    from planner.registry import resolve, with_base_url

    if args.base_url is not None:
        check_base_url(args.base_url)
    if not names:
        raise UsageError("no models given; use --models m1,m2 (see 'planner models')")
    window = getattr(args, "context_window", None)
    if window is not None and window < args.max_tokens + 1_000:
        raise UsageError(f"--context-window {window} leaves no room for the paper next to --max-tokens "
                         f"{args.max_tokens}; give a larger window or fewer output tokens")
    specs = {}
    for name in names:
        spec = with_base_url(resolve(name), args.base_url)
        if window is not None:
            spec = replace(spec, context_window=window)
        specs.setdefault(spec.name, spec)  # claude-35-sonnet and claude-3.5-sonnet are one model
    return list(specs.values())


def split(text: str | None) -> list[str]:
    return [x.strip() for x in (text or "").split(",") if x.strip()]


def _refresh(out: Path) -> None:
    from planner.regenerate import regenerate

    summary, _ = regenerate(out)
    console.out(f"index: {out / 'trajectories.md'}; site: {out / 'site' / 'index.html'}")
    for line in summary.failed:
        console.err(f"regenerate: {line}")


def cmd_run(args: argparse.Namespace) -> int:
    from planner.cache import ResponseCache
    from planner.jobs import Job, on_disk
    from planner.papers import resolve_all

    opts = plan_options(args)
    paper = resolve_all([args.paper])[0]
    spec = _specs([args.model], args)[0]
    job = Job(paper, spec, opts)
    if args.dry_run:
        return dry_run(job)
    from planner.batch import run_one
    from planner.providers import make_provider

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
        _refresh(out)
    return 0 if result.status == "done" else 1


def dry_run(job) -> int:  # type: ignore[no-untyped-def]
    """Print the exact wire body and a token estimate; needs no key, sends and writes nothing."""
    from planner.providers import adapter

    request = job.conversation().request()
    body = adapter(job.spec).wire_body(job.spec, request)
    console.out(json.dumps(body, indent=2, ensure_ascii=False))
    estimate = len(request.system + "".join(text for _, text in request.messages)) // 4
    console.err(f"# provider: {job.spec.provider}; model id: {job.spec.api_id}; output mode: {request.mode.value}; "
                f"about {estimate:,} input tokens (4 characters per token); at most {job.opts.max_tokens:,} output "
                "tokens; nothing was sent or written")
    return 0


def cmd_batch(args: argparse.Namespace) -> int:
    from planner.batch_cli import run_batch_command

    return run_batch_command(args)


def cmd_import_cards(args: argparse.Namespace) -> int:
    from planner.regenerate import import_cards

    with working_in(args.out, "planner import-cards") as out:
        summary = import_cards(args.paths, out, force=args.force)
    console.out(f"imported {summary.done} card(s) into {out}, {summary.unchanged} already there unchanged, "
                f"{len(summary.failed)} failed, {summary.warnings} strict-rule warning(s)")
    return 1 if summary.failed else 0


def cmd_regenerate(args: argparse.Namespace) -> int:
    from planner.regenerate import regenerate

    with working_in(args.out, "planner regenerate", missing="run import-cards or run first, or pass --out") as out:
        summary, _ = regenerate(out)
    console.out(f"regenerated {summary.done} card(s) ({summary.unchanged} unchanged), {out / 'trajectories.md'} "
                f"and {out / 'site' / 'index.html'}; {len(summary.failed)} failed")
    return 1 if summary.failed else 0


def cmd_models(args: argparse.Namespace) -> int:
    from planner.registry import KNOWN, SEED_MODELS

    rows = [
        {"name": s.name, "slug": s.slug, "provider": s.provider, "api_id": s.api_id,
         "temperature": s.takes_temperature, "reasoning_effort": s.reasoning_effort, "output_mode": s.mode.value,
         "context_window": s.context_window, "usd_per_m_input": s.price_in, "usd_per_m_output": s.price_out,
         "published_cards": s.name in SEED_MODELS, "retired": s.retired}
        for s in KNOWN.values()
    ]
    if args.json:
        console.out(json.dumps(rows, indent=2))
        return 0
    console.out(console.table(
        ["model", "provider", "api id", "temperature", "output mode", "context", "$ in / out per M", "note"],
        [[r["name"], r["provider"], r["api_id"], "yes" if r["temperature"] else "no (reasoning)", r["output_mode"],
          f"{r['context_window']:,}", f"{r['usd_per_m_input']} / {r['usd_per_m_output']}",
          ("retired" if r["retired"] else "") + ("; " if r["retired"] and r["published_cards"] else "")
          + ("published cards" if r["published_cards"] else "")] for r in rows]))
    console.out("Also: gpt-*, o1*/o3*/o4*, gpt-5* (OpenAI), claude-* (Anthropic), or provider:model-id with "
                "provider openai, anthropic, openrouter or compatible (with --base-url).")
    return 0


def cmd_papers(args: argparse.Namespace) -> int:
    from planner import ground_truth
    from planner.papers import PAPERS_DIR, library_ids, parse_library_file

    rows = []
    for pid in library_ids():
        paper = parse_library_file(PAPERS_DIR / f"{pid}.md")
        truth = ground_truth.load(pid)
        entries = truth.ablations if truth else []
        rows.append({"id": paper.id, "title": paper.title, "year": paper.year, "venue": paper.venue,
                     "arxiv": paper.arxiv, "ground_truth": len(entries),
                     "ground_truth_from_paper": truth.from_paper if truth else 0,
                     "has_ground_truth": bool(entries)})
    if args.json:
        console.out(json.dumps(rows, indent=2, ensure_ascii=False))
        return 0
    console.out(console.table(["id", "year", "gt", "from paper", "title"],
                              [[r["id"], str(r["year"] or ""), str(r["ground_truth"]),
                                str(r["ground_truth_from_paper"]), r["title"]] for r in rows]))
    covered = sum(r["has_ground_truth"] for r in rows)
    console.out(f"{len(rows)} papers, {covered} with ground truth for 'planner eval'; 'gt' counts the ablations "
                "each paper reports, 'from paper' how many of them quote the paper's own text.")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from planner import outdir
    from planner.export import export
    from planner.regenerate import Summary, load_all

    source = Path(args.out)
    if not source.is_dir():
        raise UsageError(f"{source}: no such folder; nothing to export (run 'planner run' or 'import-cards' first)")
    summary = Summary()
    trajectories = [t for t in load_all(source, summary) if t.task == args.task]
    if not trajectories:
        raise UsageError(f"no {args.task} trajectories in {source}; nothing to export")
    with working_in(source, "planner export") as out:
        target = outdir.claim(args.to, "--to") if args.to else out / "export" / args.task
        counts = export(trajectories, target)
    for slug, n in sorted(counts.items()):
        console.out(f"{target / slug}: plans.json and {n} predictions file(s)")
    return 1 if summary.failed else 0
