"""The offline judge: which planned ablations match which ground-truth ablations, without a model.

It applies AblationBench's criterion for the author task, piece by piece:
1. the same ablated component: the terms of the two items' names and ablated parts
   (planner.eval.vocab: stems, synonyms, the paper's abbreviations) weighted by how
   rare they are in the library, compared by cosine;
2. an action the other side allows: REMOVE matches REMOVE, and REPLACE only when one
   of its options removes the component ("none", "w/o", "identity", a zero in a sweep);
   ADD matches ADD;
3. for REPLACE and ADD, an option in common: two options alike in their weighted terms,
   two sweeps of the same hyperparameter, or a removal on both sides.
Then each plan item is credited once: a maximum-weight one-to-one assignment between
the plan and the ground truth. A second credit for a plan item (a split match) is kept
only when it rests on a different option of it: its "none" covering a ground-truth
removal while another of its options covers a ground-truth replacement. A ground-truth
entry may be covered by several plan items that each match it, as the criterion allows.

The two thresholds are the grid point with the best agreement on blind human labels
(tests/data/labels); bench/agreement.py chooses them again with each paper's labels held
out, and the README reports those held-out decisions.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from planner.core.schema import Ablation
from planner.eval.vocab import (
    Weights,
    find_aliases,
    item_text,
    library_weights,
    paper_aliases,
    terms,
)

Match = set[tuple[int, int]]  # (plan index, ground-truth index), both 0-based
# the grid point with the best coverage F1 on all labelled papers (planner.eval.agreement.choose)
COMPONENT_THRESHOLD = 0.2
OPTION_THRESHOLD = 0.1
_REMOVAL = re.compile(r"\b(none|no|without|w/o|remove[ds]?|removing|removal|disabled?|identity|zero|off|"
                      r"omit(?:ted)?)\b|(?<![\d.])0(?:\.0+)?(?![\d.])", re.IGNORECASE)
_SWEEP_WORDS = re.compile(r"\b(values|range|grid|sweep|varying|several|different|smaller|larger|more|fewer|less|"
                          r"higher|lower|increas\w*|decreas\w*)\b", re.IGNORECASE)
_NUMBER = re.compile(r"^[\d.,]+[a-z%]?$")
_REPLACED = re.compile(r"\b(?:instead of|without|w/o|rather than)\b(.*)$", re.IGNORECASE)
WHOLE = -1  # the witness of a pair that rests on the whole item, not on one of its options


def removes(option: str) -> bool:
    """Whether a replacement option takes the component away: none, w/o, identity, zero, a 0 in a sweep."""
    return bool(_REMOVAL.search(option))


def is_sweep(options: list[str]) -> bool:
    """Whether the options vary a quantity: every option holds a number, or the list says it sweeps."""
    return bool(options) and (all(re.search(r"\d", o) for o in options) or
                              any(_SWEEP_WORDS.search(o) for o in options))


def component_text(ab: Ablation) -> str:
    """The words naming the ablated component: the name and the ablated part; in a name such as
    "MSE instead of SCE" or "LDS without FDS" only what is replaced or removed names it."""
    found = _REPLACED.search(ab.name)
    name = found.group(1) if found and found.group(1).strip() else ab.name
    return f"{name} {ab.ablated_part}"


@dataclass
class Context:
    """What the judge knows about a paper's words: their weights in the library and the abbreviations
    the paper's summary and the compared items define."""

    weights: Weights
    aliases: dict[str, tuple[str, ...]]

    @classmethod
    def for_paper(cls, paper: str | None, items: list[Ablation]) -> Context:
        aliases = dict(find_aliases(" ; ".join(item_text(a) for a in items)))
        aliases.update(paper_aliases(paper) if paper else {})
        return cls(library_weights(), aliases)

    def cosine(self, a: str, b: str, numbers: bool = True) -> float:
        """Cosine of the two texts' term sets, each term weighted as above; `numbers=False` leaves out
        bare numbers (an option "8" shares nothing with "8-bit Adam")."""
        x, y = set(terms(a, self.aliases)), set(terms(b, self.aliases))
        if not numbers:
            x, y = {t for t in x if not _NUMBER.match(t)}, {t for t in y if not _NUMBER.match(t)}
        if not x or not y:
            return 0.0
        w = {t: self.weights(t) ** 2 for t in x | y}
        return sum(w[t] for t in x & y) / math.sqrt(sum(w[t] for t in x) * sum(w[t] for t in y))


@dataclass
class Pair:
    """The evidence about one (plan item, ground-truth item) pair.

    `option` is how alike the best shared option is (1 for two removals or two sweeps); it
    matters only when both items replace or add (`needs_option`)."""

    component: float
    compatible: bool  # the actions allow each other
    needs_option: bool
    option: float
    plan_witness: int  # which option of the plan item makes the match (WHOLE: the item as a whole)
    truth_witness: int

    def matches(self, component: float = COMPONENT_THRESHOLD, option: float = OPTION_THRESHOLD) -> bool:
        return (self.compatible and self.component >= component
                and (not self.needs_option or self.option >= option))


def component_similarity(a: Ablation, b: Ablation, ctx: Context) -> float:
    """How alike the ablated components are (0..1): names with parts, or the parts alone."""
    return max(ctx.cosine(component_text(a), component_text(b)), ctx.cosine(a.ablated_part, b.ablated_part))


def _removal_option(ab: Ablation) -> int | None:
    return next((k for k, o in enumerate(ab.replacement) if removes(o)), None)


def _common_option(a: Ablation, b: Ablation, ctx: Context) -> tuple[float, int, int]:
    """The options the two items share most: (how alike, index in a, index in b). Two removals are
    alike, and so are two sweeps (of the quantity their components name); bare numbers are left out
    of the comparison of other options ("8" shares nothing with "8-bit Adam")."""
    if is_sweep(a.replacement) and is_sweep(b.replacement):
        return 1.0, WHOLE, WHOLE
    best = (0.0, WHOLE, WHOLE)
    for i, x in enumerate(a.replacement):
        for j, y in enumerate(b.replacement):
            sim = 1.0 if removes(x) and removes(y) else ctx.cosine(x, y, numbers=False)
            if sim > best[0]:
                best = (sim, i, j)
    return best


def judge_pair(a: Ablation, b: Ablation, ctx: Context) -> Pair:
    """Plan item `a` against ground-truth item `b` under the criterion's action and option rules."""
    component = component_similarity(a, b, ctx)
    kinds = (a.action.upper(), b.action.upper())
    if kinds == ("REMOVE", "REMOVE"):
        return Pair(component, True, False, 0.0, WHOLE, WHOLE)
    if kinds == ("REMOVE", "REPLACE"):
        k = _removal_option(b)
        return Pair(component, k is not None, False, 0.0, WHOLE, WHOLE if k is None else k)
    if kinds == ("REPLACE", "REMOVE"):
        k = _removal_option(a)
        return Pair(component, k is not None, False, 0.0, WHOLE if k is None else k, WHOLE)
    if kinds[0] == kinds[1] and kinds[0] in ("REPLACE", "ADD"):
        return Pair(component, True, True, *_common_option(a, b, ctx))
    return Pair(component, False, False, 0.0, WHOLE, WHOLE)


def assign(pairs: dict[tuple[int, int], Pair], component: float = COMPONENT_THRESHOLD,
           option: float = OPTION_THRESHOLD) -> Match:
    """Each plan item credited once (a maximum-similarity one-to-one assignment first), again only for a
    distinct option of it; a ground-truth entry may be covered by several plan items that each match it."""
    from scipy.optimize import linear_sum_assignment

    candidates = {k: p for k, p in pairs.items() if p.matches(component, option)}
    if not candidates:
        return set()
    rows = sorted({i for i, _ in candidates})
    cols = sorted({j for _, j in candidates})
    weight = [[candidates[(i, j)].component if (i, j) in candidates else 0.0 for j in cols] for i in rows]
    chosen = {(rows[r], cols[c]) for r, c in zip(*linear_sum_assignment(weight, maximize=True))
              if (rows[r], cols[c]) in candidates}
    for (i, j), p in sorted(candidates.items(), key=lambda kv: -kv[1].component):
        if (i, j) in chosen:
            continue
        plan_used = [pairs[(i, jj)].plan_witness for ii, jj in chosen if ii == i]
        truth_used = [pairs[(ii, j)].truth_witness for ii, jj in chosen if jj == j]
        if not _distinct(p.plan_witness, plan_used):
            continue
        if not plan_used or _distinct(p.truth_witness, truth_used):
            chosen.add((i, j))
    return chosen


def _distinct(witness: int, used: list[int]) -> bool:
    """A further credit for an item is justified only by an option of it not already credited."""
    return not used or (witness != WHOLE and all(u != WHOLE and u != witness for u in used))


def judge_pairs(plan: list[Ablation], truth: list[Ablation], paper: str | None = None) -> dict[tuple[int, int], Pair]:
    ctx = Context.for_paper(paper, plan + truth)
    return {(i, j): judge_pair(a, b, ctx) for i, a in enumerate(plan) for j, b in enumerate(truth)}


def offline_match(plan: list[Ablation], truth: list[Ablation], paper: str | None = None) -> Match:
    """The (plan, truth) pairs the offline judge matches; `paper` names a library paper for its abbreviations."""
    return assign(judge_pairs(plan, truth, paper))
