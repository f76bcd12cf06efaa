"""The offline judge: deterministic fuzzy matching of plan ablations against ground truth.

No network and no key. Its thresholds were chosen on the hand-labelled pairs in
tests/data/judge_pairs*.jsonl (the tuning set); its agreement is reported separately
on a held-out set labelled before the judge was run on it (tests/test_offline_judge.py).
"""

from __future__ import annotations

import re

from rapidfuzz import fuzz
from rapidfuzz.utils import default_process

from planner.core.schema import Ablation

Match = set[tuple[int, int]]  # (plan index, ground-truth index), both 0-based
_FILLER = re.compile(
    r"\b(ablation|ablations|ablate|ablating|effect|effects|impact|of|the|a|an|in|on|for|to|and|with|"
    r"study|analysis|component|module|use|using|method|model|vs|versus|different)\b"
)
_NONE_LIKE = re.compile(r"\b(none|no|without|w/o|remove|removed|removing|identity|disable|disabled|off|drop|zero)\b")
COMPONENT_THRESHOLD = 0.55  # chosen on the tuning pairs; see tests/test_offline_judge.py
REPLACEMENT_THRESHOLD = 0.60


def _clean(text: str) -> str:
    return " ".join(_FILLER.sub(" ", default_process(text)).split())


def component_similarity(a: Ablation, b: Ablation) -> float:
    """How alike the ablated components are (0..1), on names and ablated parts with filler removed."""
    part = fuzz.token_set_ratio(_clean(a.ablated_part), _clean(b.ablated_part))
    both = fuzz.token_set_ratio(_clean(f"{a.name} {a.ablated_part}"), _clean(f"{b.name} {b.ablated_part}"))
    return max(part, both) / 100


def _removes(ab: Ablation) -> bool:
    return ab.action == "REMOVE" or any(_NONE_LIKE.search(default_process(r)) for r in ab.replacement)


def actions_compatible(a: Ablation, b: Ablation) -> bool:
    if a.action == b.action:
        return True
    if {a.action, b.action} == {"REMOVE", "REPLACE"}:
        return _removes(a) and _removes(b)
    return False


def _is_sweep(ab: Ablation) -> bool:
    return bool(ab.replacement) and all(re.search(r"\d", r) for r in ab.replacement)


def replacements_overlap(a: Ablation, b: Ablation, threshold: float = REPLACEMENT_THRESHOLD) -> bool:
    if not a.replacement or not b.replacement or a.action == "REMOVE" or b.action == "REMOVE":
        return True
    if _is_sweep(a) and _is_sweep(b):
        return True  # the same hyperparameter swept over values
    return any(
        fuzz.token_set_ratio(default_process(x), default_process(y)) / 100 >= threshold
        for x in a.replacement for y in b.replacement
    )


def pair_matches(a: Ablation, b: Ablation, component: float = COMPONENT_THRESHOLD,
                 replacement: float = REPLACEMENT_THRESHOLD) -> bool:
    return (
        component_similarity(a, b) >= component
        and actions_compatible(a, b)
        and replacements_overlap(a, b, replacement)
    )


def offline_match(plan: list[Ablation], truth: list[Ablation]) -> Match:
    """Every (plan, truth) pair the offline judge calls a match."""
    return {(i, j) for i, a in enumerate(plan) for j, b in enumerate(truth) if pair_matches(a, b)}
