"""Export plans in AblationBench's planner output format, so its harness can judge them.

Per model folder: `<paper>.jsonl` with one ablation per line (name, ablated_part,
action, replacement, metrics), which the harness reads, and `plans.json`, a dict keyed
by paper id of {"predictions": <that JSONL as a string>, "cost": <USD>} as its planner
writes it.
"""

from __future__ import annotations

import json
from pathlib import Path

from planner.cards.store import atomic_write, safe_segment
from planner.core.schema import Trajectory


def predictions_jsonl(t: Trajectory) -> str:
    return "".join(json.dumps(a.model_dump(), ensure_ascii=False) + "\n" for a in t.plan.ablations)


def export(trajectories: list[Trajectory], target: Path) -> dict[str, int]:
    """Write one folder per model under `target`; returns the number of papers per model."""
    plans: dict[str, dict[str, dict]] = {}
    for t in trajectories:
        folder = target / safe_segment(t.slug, "model")
        text = predictions_jsonl(t)
        atomic_write(folder / f"{safe_segment(t.paper, 'paper')}.jsonl", text)
        plans.setdefault(t.slug, {})[t.paper] = {"predictions": text, "cost": t.provenance.cost_usd or 0.0}
    for slug, entries in plans.items():
        atomic_write(target / slug / "plans.json", json.dumps(dict(sorted(entries.items())), indent=2, ensure_ascii=False) + "\n")
    return {slug: len(entries) for slug, entries in plans.items()}
