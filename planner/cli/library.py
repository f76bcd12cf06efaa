"""What planner knows: `planner models` and `planner papers`."""

from __future__ import annotations

import argparse
import json

from planner.cli import console


def cmd_models(args: argparse.Namespace) -> int:
    from planner.prices import list_price, source
    from planner.registry import KNOWN, SEED_MODELS

    rows = [_model_row(s, list_price(s.provider, s.api_id), s.name in SEED_MODELS) for s in KNOWN.values()]
    if args.json:
        console.out(json.dumps({"prices_from": source(), "models": rows}, indent=2, default=str))
        return 0
    console.out(console.table(
        ["model", "provider", "api id", "temperature", "output mode", "context", "max out", "$ in / out per M",
         "cached in", "note"],
        [[r["name"], r["provider"], r["api_id"], "yes" if r["temperature"] else "no", r["output_mode"],
          f"{r['context_window']:,}", f"{r['max_output']:,}", _money(r["usd_per_m_input"], r["usd_per_m_output"]),
          _money(r["usd_per_m_cache_read"]), r["note"]] for r in rows]))
    console.out(f"Prices: {source()} (USD per million tokens, standard tier; cost is computed per answer with its "
                "own cached, cache-write and long-context rates; batches at the batch price). Refresh: pip install "
                "-U genai-prices.")
    console.out("Also: gpt-*, o*, gpt-5*/gpt-6* (OpenAI), claude-* (Anthropic), or provider:model-id with "
                "provider openai, anthropic, openrouter or compatible (with --base-url).")
    return 0


def _model_row(spec, listed, seed: bool) -> dict:  # type: ignore[no-untyped-def]
    notes = [spec.retired and "retired", spec.notice and "retiring", seed and "published cards"]
    return {"name": spec.name, "slug": spec.slug, "provider": spec.provider, "api_id": spec.api_id,
            "temperature": spec.takes_temperature, "reasoning": spec.reasons, "reasoning_effort": spec.reasoning_effort,
            "output_mode": spec.mode.value, "fallback_modes": [m.value for m in spec.fallbacks],
            "context_window": spec.window, "max_output": spec.max_output, "timeout_s": spec.timeout,
            "usd_per_m_input": listed.input if listed else None, "usd_per_m_output": listed.output if listed else None,
            "usd_per_m_cache_read": listed.cache_read if listed else None,
            "usd_per_m_cache_write": listed.cache_write if listed else None,
            "batch_price_listed": listed.batch if listed else None,
            "price_since": listed.since.isoformat() if listed and listed.since else None,
            "published_cards": seed, "retired": spec.retired, "retiring": spec.notice,
            "note": "; ".join(n for n in notes if n)}


def _money(*values: float | None) -> str:
    return " / ".join(f"{v:g}" if v is not None else "?" for v in values)


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
