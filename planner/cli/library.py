"""What planner knows: `planner models` and `planner papers`."""

from __future__ import annotations

import argparse
import json

from planner.cli import console


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
    from planner.papers import ground_truth
    from planner.papers.library import PAPERS_DIR, library_ids, parse_library_file

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
