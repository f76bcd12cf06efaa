"""Not a timing benchmark: how far the offline judge agrees with people (the README's Evaluation numbers).

- The judge against the blind labels A and B (tests/data/labels: 78 published plans of the
  16 library papers with ground truth), every paper judged with thresholds chosen by
  leave-one-paper-out cross-validation on the other 15 (held-out decisions only).
- The ceiling: labelling C, a second labeller's independent labels of 32 of those plans,
  against A and B, with the same measures.
- The older held-out set (tests/data/judge_heldout.jsonl), judged by the shipped judge.
Intervals: 95% bootstrap over papers.
"""

from __future__ import annotations

import sys
from collections import Counter

from _common import ROOT

LABELS = ROOT / "tests" / "data" / "labels"
HELDOUT = ROOT / "tests" / "data" / "judge_heldout.jsonl"


def _cell(value: tuple[float, float, float]) -> str:
    return f"{value[0]:.3f} | {value[1]:.2f} to {value[2]:.2f}"


def agreement_table() -> list[str]:
    """The README's table: every measure for the judge (held out) and for the second labeller."""
    from planner.eval import agreement as ag
    from planner.eval.labels import load_labelling

    labelled = load_labelling(LABELS, "A") + load_labelling(LABELS, "B")
    held_out, chosen = ag.cross_validate(labelled)
    ceiling = ag.versus(labelled, load_labelling(LABELS, "C"))
    judge, people = ag.summary(held_out), ag.summary(ceiling)
    lines = [(f"| measure | offline judge vs A+B, held out ({len(held_out)} plans) | 95% interval | "
              f"labeller C vs A+B ({len(ceiling)} plans) | 95% interval |"), "|---|---:|---:|---:|---:|"]
    lines += [f"| {name} | {_cell(judge[name])} | {_cell(people[name])} |" for name in ag.MEASURES]
    common = Counter(chosen.values()).most_common()
    lines.append("thresholds chosen per held-out paper (component, option): "
                 + ", ".join(f"{c}/{o} in {n} folds" for (c, o), n in common)
                 + f"; on all papers: {'/'.join(str(x) for x in ag.choose(labelled))}")
    return lines


def heldout_line() -> str:
    """The shipped judge on the older held-out set."""
    from planner.eval import agreement as ag
    from planner.eval.labels import load_named
    from planner.eval.offline import offline_match

    plans = [ag.Judged(lp.paper, len(lp.plan), len(lp.truth), lp.matches, offline_match(lp.plan, lp.truth, lp.paper))
             for lp in load_named(HELDOUT)]
    cov, pairs = ag.coverage(plans), ag.pairs(plans)
    return (f"older held-out set ({len(plans)} plans, {cov.tp + cov.fp + cov.fn + cov.tn} ground-truth ablations): "
            f"coverage P {cov.precision:.3f} R {cov.recall:.3f} F1 {cov.f1:.3f}; AblationBench per-plan F1 "
            f"{ag.per_plan_coverage(plans)[2]:.3f}; pairs P {pairs.precision:.3f} R {pairs.recall:.3f}")


def main() -> None:
    if not LABELS.is_dir():
        sys.exit(f"{LABELS} is missing")
    print("\n".join(agreement_table()))
    print(heldout_line())


if __name__ == "__main__":
    main()
