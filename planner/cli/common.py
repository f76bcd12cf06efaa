"""What the command modules share: the output folder's claim and lock, options, model names, the refresh.

Every command module imports these from here (never from one another), so the
commands stay side by side with no import circle between them.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from planner.cli import console
from planner.errors import UsageError


@contextmanager
def working_in(out_arg: str | Path, command: str, missing: str | None = None) -> Iterator[Path]:
    """Claim the output folder, hold its lock for the command, and clear what killed runs left.

    A command that only reads what earlier ones wrote passes `missing` (what to run first): a folder
    that does not exist is then an error instead of being created empty."""
    from planner.cards import outdir
    from planner.cards.store import lock, sweep_temp_files

    if missing is not None and not Path(out_arg).is_dir():
        raise UsageError(f"{out_arg}: no such folder; {missing}")
    out = outdir.claim(Path(out_arg))
    with lock(out, command, console.err):
        sweep_temp_files(out)
        yield out


def plan_options(args: argparse.Namespace):
    from planner.run.task import PlanOptions

    opts = PlanOptions(task=args.task, count=args.num_ablations, temperature=args.temperature,
                       max_repairs=args.max_repairs, prompts=args.prompts, base_url=args.base_url,
                       timeout=args.timeout, seed=args.seed, max_tokens=args.max_tokens)
    opts.n  # noqa: B018 - validates --num-ablations up front
    return opts


def model_specs(names: list[str], args: argparse.Namespace):
    from dataclasses import replace

    from planner.providers.sdk import check_base_url
    from planner.registry import resolve, with_base_url

    if args.base_url is not None:
        check_base_url(args.base_url)
    if not names:
        raise UsageError("no models given; use --models m1,m2 (see 'planner models')")
    window = getattr(args, "context_window", None)
    specs = {}
    for name in names:
        spec = with_base_url(resolve(name), args.base_url)
        if window is not None:
            tokens = args.max_tokens or spec.max_output
            if window < tokens + 1_000:
                raise UsageError(f"--context-window {window} leaves no room for the paper next to {tokens} output "
                                 f"tokens for {spec.name}; give a larger window or a smaller --max-tokens")
            spec = replace(spec, context_window=window)
        specs.setdefault(spec.name, spec)  # claude-35-sonnet and claude-3.5-sonnet are one model
    return list(specs.values())


def split(text: str | None) -> list[str]:
    return [x.strip() for x in (text or "").split(",") if x.strip()]


def refresh(out: Path, say: Callable[[str], None] = console.out) -> None:
    """Rebuild the index and site after a command changed what they show (`say` reports where they are)."""
    from planner.cards.regenerate import regenerate

    summary, _ = regenerate(out)
    say(f"index: {out / 'trajectories.md'}; site: {out / 'site' / 'index.html'}")
    for line in summary.failed:
        console.err(f"regenerate: {line}")
