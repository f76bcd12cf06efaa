"""Output folders for the site tests: trajectories stored as planner stores them, and evaluation files in
the data contract `planner eval` writes (for what the real eval cannot produce: hostile or broken files)."""

from __future__ import annotations

import json
from pathlib import Path

from planner.core.schema import Ablation, Plan, Trajectory


def trajectory(paper: str, model: str = "gpt-4o", task: str = "author", names: list[str] | None = None) -> Trajectory:
    names = names or [f"ablation {i}" for i in range(1, 6)]
    return Trajectory(model=model, slug=model.replace(".", ""), paper=paper, task=task, plan=Plan(
        reasoning="Because.", ablations=[Ablation(name=n, ablated_part=f"part of {n}", action="REMOVE",
                                                  metrics=["accuracy"]) for n in names]))


def store(out: Path, trajectories: list[Trajectory]) -> Path:
    """Claim `out` and store the trajectories with their cards, as import-cards would."""
    from planner.cards.card import write_card
    from planner.cards.outdir import claim
    from planner.cards.store import save_trajectory

    out = claim(out)
    for t in trajectories:
        save_trajectory(out, t, write_card(t))
    return out


def row(t: Trajectory, truth: list[Ablation], matches: list[tuple[int, int]], f1: float = 0.5) -> dict:
    """A results.jsonl row for this plan, as eval writes it."""
    return {"model": t.model, "slug": t.slug, "paper": t.paper, "task": t.task, "precision": f1, "recall": f1,
            "f1": f1, "ndcg": f1, "planned": len(t.plan.ablations), "ground_truth": len(truth), "found": 1,
            "matches": [list(m) for m in matches], "top_k": None, "plan": [a.name for a in t.plan.ablations],
            "truth": [a.model_dump() for a in truth]}


def write_eval(out: Path, rows: list[dict], task: str = "author", by_model: list[dict] | None = None,
               folder: str = "offline") -> Path:
    """An evaluation run's files and eval/latest.json naming it."""
    run = out / "eval" / task / folder
    run.mkdir(parents=True, exist_ok=True)
    (run / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    metrics = ["duplicate_share"] if task == "reviewer" else ["precision", "recall", "f1", "ndcg"]
    record = {"task": task, "judge": "offline", "top_k": None, "papers": None, "models": None,
              "ground_truth": "library", "scored": len(rows), "failed": 0, "finished": "2026-01-01T00:00:00+00:00",
              "metrics": metrics, "by_model": by_model or []}
    (run / "run.json").write_text(json.dumps(record), encoding="utf-8")
    (out / "eval" / "latest.json").write_text(json.dumps({task: f"{task}/{folder}"}), encoding="utf-8")
    return run
