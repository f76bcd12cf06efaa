"""Not a timing benchmark: reproduces the README's calibration table.

Scores the 102 plans AblationBench published (../shared/published-plans) with the
offline judge on the library's ground truth, per model, next to the F1 the blind human
labels give the same plans (tests/data/labels, A and B) and the published
AuthorAblation F1, with a 95% bootstrap interval over papers (the published numbers
cover 83 papers; these plans cover the library papers that have ground truth). With
the git history at hand it also scores them on the ground truth as it was before the
evidence requirement (commit 54dabbb), to show what changed.
"""

from __future__ import annotations

import json
import random
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from _common import ROOT

PUBLISHED = {"claude-3.5-sonnet": 0.40, "gemini-2.5-flash": 0.36, "o3-mini": 0.35, "gpt-4o": 0.34,
             "llama-3.1-405b-instruct": 0.26}
PLANS = ROOT.parent / "shared" / "published-plans" / "lm-planner"
LABELS = ROOT / "tests" / "data" / "labels"
BEFORE = "54dabbb"  # the last commit whose ground truth did not need evidence


def _old_truth(paper: str):
    from planner.core.schema import Ablation

    done = subprocess.run(["git", "show", f"{BEFORE}:papers/ground_truth/{paper}.json"], cwd=ROOT,
                          capture_output=True, text=True)
    if done.returncode:
        return None
    fields = ("name", "ablated_part", "action", "replacement", "metrics")
    items = [Ablation(**{k: a[k] for k in fields}) for a in json.loads(done.stdout)["ablations"]]
    return items or None


def f1_by_model(trajectories, truth_of) -> dict[str, dict[str, float]]:
    """model -> paper -> F1 of that model's plan for that paper."""
    from planner.eval.metrics import score
    from planner.eval.offline import offline_match
    from planner.registry import display_name

    table: dict[str, dict[str, float]] = {}
    for t in trajectories:
        truth = truth_of(t.paper)
        if truth:
            s = score(t, truth, offline_match(t.plan.ablations, truth, t.paper))
            table.setdefault(display_name(t.model), {})[t.paper] = s.f1
    return table


def human_f1_by_model() -> dict[str, dict[str, float]]:
    """model -> paper -> F1 of that model's plan when the people's labels decide the matches."""
    from planner.eval.labels import load_labelling
    from planner.eval.metrics import plan_prf
    from planner.registry import display_name

    table: dict[str, dict[str, float]] = {}
    for lp in load_labelling(LABELS, "A") + load_labelling(LABELS, "B"):
        table.setdefault(display_name(lp.model), {})[lp.paper] = plan_prf(len(lp.plan), len(lp.truth), lp.matches)[2]
    return table


def rows(now: dict[str, dict[str, float]], human: dict[str, dict[str, float]]) -> list[str]:
    """The README's table: per model, the judge's F1 with its interval, the people's, the published."""
    ci = bootstrap(now)
    lines = [("| model | papers | our F1 (offline judge) | 95% interval | F1 by the human labels | published F1 "
              "(83 papers) |"), "|---|---:|---:|---:|---:|---:|"]
    for model in sorted(now, key=lambda m: -PUBLISHED[m]):
        per = now[model]
        people = statistics.fmean(human[model][p] for p in per)
        lines.append(f"| {model} | {len(per)} | {statistics.fmean(per.values()):.3f} | "
                     f"{ci[model][0]:.2f} to {ci[model][1]:.2f} | {people:.3f} | {PUBLISHED[model]:.2f} |")
    means = [statistics.fmean(per.values()) for per in now.values()]
    people = [statistics.fmean(per.values()) for per in human.values()]
    lines.append(f"Mean over models: ours {statistics.fmean(means):.3f}, by the human labels "
                 f"{statistics.fmean(people):.3f}, published {statistics.fmean(PUBLISHED.values()):.3f}.")
    return lines


def bootstrap(table: dict[str, dict[str, float]], rounds: int = 2000) -> dict[str, tuple[float, float]]:
    rng = random.Random(7)
    papers = sorted({p for per in table.values() for p in per})
    draws: dict[str, list[float]] = {m: [] for m in table}
    for _ in range(rounds):
        sample = [rng.choice(papers) for _ in papers]
        for model, per in table.items():
            values = [per[p] for p in sample if p in per]
            if values:
                draws[model].append(statistics.fmean(values))
    return {m: (sorted(v)[int(0.025 * len(v))], sorted(v)[int(0.975 * len(v)) - 1]) for m, v in draws.items()}


def main() -> None:
    from planner.cards.regenerate import Summary, import_cards, load_all
    from planner.papers.ground_truth import reported_ablations

    if not PLANS.is_dir():
        sys.exit(f"{PLANS} is not here; the published plans live in ../shared beside the checkout")
    with tempfile.TemporaryDirectory() as tmp:
        import_cards([PLANS], Path(tmp))
        trajectories = load_all(Path(tmp), Summary())
    now = f1_by_model(trajectories, reported_ablations)
    print("\n".join(rows(now, human_f1_by_model())))
    before = f1_by_model(trajectories, _old_truth)
    if before:
        common = {p for per in now.values() for p in per}
        old_all = [statistics.fmean(per.values()) for per in before.values()]
        old_common = [statistics.fmean(v for p, v in per.items() if p in common) for per in before.values()]
        gone = sorted({p for per in before.values() for p in per} - common)
        old_gone = [statistics.fmean(v for p, v in per.items() if p in gone) for per in before.values()]
        print(f"before the evidence requirement ({BEFORE}): mean {statistics.fmean(old_all):.3f} on "
              f"{len({p for per in before.values() for p in per})} papers; {statistics.fmean(old_common):.3f} on "
              f"the {len(common)} papers kept; {statistics.fmean(old_gone):.3f} on the papers whose ground truth "
              f"could not be quoted ({', '.join(gone)})")


if __name__ == "__main__":
    main()
