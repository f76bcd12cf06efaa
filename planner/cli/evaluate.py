"""`planner eval`: judge stored plans against the papers' ground truth and report the scores.

The ground truth is the library's, or with `--ground-truth DIR` the user's own (one
`<paper>.json` per paper), which scores papers the library lacks, papers from files too.

LM judges run through the same drivers as the planner: synchronously on worker
threads, or (`--via batch-api`) through the providers' batch engines. A judge that
never gives a usable answer is a recorded failure (`eval/.../failures.jsonl`) and the
plan is left unscored; the command then exits 1.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from planner.cli import console
from planner.cli.common import refresh, split, working_in
from planner.errors import UsageError, WorkError


def _judges(names: list[str], base_url: str | None):  # type: ignore[no-untyped-def]
    from planner.eval.evaluate import OFFLINE
    from planner.providers.sdk import check_base_url
    from planner.registry import resolve, with_base_url

    if base_url is not None:
        check_base_url(base_url)
    if not names:
        raise UsageError("--judge needs 'offline' or one or more model names")
    return [with_base_url(resolve(n), base_url) for n in dict.fromkeys(names) if n != OFFLINE]


def _run_sync(work, args: argparse.Namespace, cache, out: Path) -> list[Any]:  # type: ignore[no-untyped-def]
    from planner.providers.retry import RetryPolicy
    from planner.run.batching.inflight import guard
    from planner.run.sweep import providers_for, run_pool
    from planner.run.sync import Asker, converse

    providers = providers_for((item.judge for item in work), args.base_url, args.timeout)
    in_flight = guard(out, cache, args.timeout, console.err)  # never buy what a judge batch is buying
    outcomes: dict[int, Any] = {}

    def judge(index: int) -> Any:
        item = work[index]
        try:
            return converse(item.conv, Asker(providers[item.judge.name], cache, RetryPolicy(), item.label,
                                             in_flight))
        except WorkError as exc:
            return str(exc)

    with console.Progress(len(work), "judging") as bar:
        finished = run_pool(list(range(len(work))), judge, args.concurrency,
                            lambda i, outcome: (outcomes.__setitem__(i, outcome), bar.advance(work[i].label)))
    if not finished:
        raise KeyboardInterrupt
    return [_reason(outcomes[i]) for i in range(len(work))]


def _reason(outcome: Any) -> Any:
    from planner.core.conversation import Done, Failed

    if isinstance(outcome, Failed):
        return "no usable answer after its repair turns: " + "; ".join(outcome.errors[:3])
    return outcome if isinstance(outcome, (Done, str)) else "no answer"


def _run_batched(work, args: argparse.Namespace, cache, out: Path) -> list[Any]:  # type: ignore[no-untyped-def]
    from planner.core.conversation import Ask
    from planner.run.batching.driver import Driver
    from planner.run.batching.rounds import Item
    from planner.run.manifest import Manifest
    from planner.run.sweep import batch_engines

    engines = batch_engines((w.judge for w in work), args.base_url, args.timeout)
    items, sync_indices = [], []
    for index, w in enumerate(work):
        if w.judge.name in engines:
            items.append((index, Item(w.label, w.conv, w.judge, engines[w.judge.name])))
        else:
            sync_indices.append(index)
    outcomes: list[Any] = [None] * len(work)
    if items:
        driver = Driver([i for _, i in items], cache, Manifest.load(out), args.poll_interval, console.err,
                        adopt=args.adopt)
        if not driver.run(wait=not args.no_wait):
            console.out("judge batches submitted; run the same command again to collect them")
        for index, item in items:
            outcomes[index] = "its batch is still running" if isinstance(item.decision, Ask) else _reason(item.decision)
    if sync_indices:
        rest = _run_sync([work[i] for i in sync_indices], args, cache, out)
        for index, outcome in zip(sync_indices, rest):
            outcomes[index] = outcome
    return outcomes


def cmd_eval(args: argparse.Namespace) -> int:
    from planner.cards.regenerate import Summary, load_all
    from planner.eval.evaluate import judge_all, judge_work, scores, select, targets
    from planner.eval.report import Run, markdown_table, write_report
    from planner.papers.ground_truth import load_folder
    from planner.run.cache import ResponseCache
    from planner.run.jobs import record_failure

    names = split(args.judge)
    judges = _judges(names, args.base_url)
    given = load_folder(args.ground_truth) if args.ground_truth is not None else None
    with working_in(args.out, "planner eval", missing="run 'planner run' or 'import-cards' first, or pass --out") \
            as out:
        load_summary = Summary()
        papers, models = split(args.papers) or None, split(args.models) or None
        chosen = select(load_all(out, load_summary), papers, models, args.task)
        if not chosen:
            raise UsageError(f"no {args.task} trajectories in {out} match; run 'planner run' or 'import-cards' first")
        found, skipped = targets(chosen, given)
        work = judge_work(found, judges, None, args.max_repairs)
        cache = ResponseCache(None if args.no_cache else out / ".cache")
        run = (lambda w: _run_batched(w, args, cache, out)) if args.via == "batch-api" else \
            (lambda w: _run_sync(w, args, cache, out))
        verdicts = judge_all(found, names, judges, work, run)
        result = scores(found, verdicts, args.task, args.top_k)
        label = names[0] if len(names) == 1 else "majority(" + ",".join(names) + ")"
        report_run = Run(args.task, label, args.top_k, tuple(papers) if papers else None,
                         tuple(models) if models else None,
                         "library" if given is None else str(args.ground_truth.resolve()))
        failed_lines = [f"{found[i].trajectory.model} on {found[i].trajectory.paper}: {'; '.join(r)}"
                        for i, r in sorted(verdicts.failed.items())]
        folder = write_report(out, result, report_run, failed_lines)
        for i, reasons in sorted(verdicts.failed.items()):
            t = found[i].trajectory
            record_failure(folder, f"judging {t.model} on {t.paper}", {"paper": t.paper, "model": t.model,
                           "task": t.task}, "; ".join(reasons), reasons, None)
        refresh(out, console.err)  # the site shows the latest evaluation; stdout keeps the table (or JSON lines)
    for line in skipped:
        console.err(f"skipped: {line}")
    if args.json:
        for s in result:
            console.out(json.dumps(s.row(), ensure_ascii=False))
    else:
        console.out(markdown_table(result, report_run))
        console.out(f"{len(result)} trajectories scored against {report_run.truth_label}, {len(skipped)} without "
                    "ground truth, "
                    f"{len(verdicts.failed)} not judged; report in {folder / 'report.md'}")
    return 1 if load_summary.failed or verdicts.failed else 0

