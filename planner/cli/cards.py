"""Commands that need no model: `import-cards`, `regenerate` and `export`."""

from __future__ import annotations

import argparse
from pathlib import Path

from planner.cli import console
from planner.cli.common import working_in
from planner.errors import UsageError


def cmd_import_cards(args: argparse.Namespace) -> int:
    from planner.cards.regenerate import import_cards

    with working_in(args.out, "planner import-cards") as out:
        summary = import_cards(args.paths, out, force=args.force)
    console.out(f"imported {summary.done} card(s) into {out}, {summary.unchanged} already there unchanged, "
                f"{len(summary.failed)} failed, {summary.warnings} strict-rule warning(s)")
    return 1 if summary.failed else 0


def cmd_regenerate(args: argparse.Namespace) -> int:
    from planner.cards.regenerate import regenerate

    with working_in(args.out, "planner regenerate", missing="run import-cards or run first, or pass --out") as out:
        summary, _ = regenerate(out)
    console.out(f"regenerated {summary.done} card(s) ({summary.unchanged} unchanged), {out / 'trajectories.md'} "
                f"and {out / 'site' / 'index.html'}; {len(summary.failed)} failed")
    return 1 if summary.failed else 0


def cmd_export(args: argparse.Namespace) -> int:
    from planner.cards import outdir
    from planner.cards.regenerate import Summary, load_all
    from planner.eval.export import export

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
