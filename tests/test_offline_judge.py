"""The offline judge against hand labels, and its action rules."""

from __future__ import annotations

import json
from pathlib import Path

from planner.offline_judge import (
    COMPONENT_THRESHOLD, REPLACEMENT_THRESHOLD, offline_match, pair_matches,
)
from planner.schema import Ablation

DATA = Path(__file__).parent / "data"


def labelled(*names: str) -> list[dict]:
    rows = []
    for name in names:
        rows += [json.loads(line) | {"file": name} for line in (DATA / name).read_text(encoding="utf-8").splitlines()]
    return rows


TUNING = ("judge_pairs.jsonl", "judge_pairs_extra.jsonl")


def agreement(rows: list[dict], component: float, replacement: float) -> float:
    hits = sum(pair_matches(Ablation(**r["plan"]), Ablation(**r["ground_truth"]), component, replacement) == r["match"]
               for r in rows)
    return hits / len(rows)


def test_there_are_enough_hand_labels_of_both_kinds():
    rows = labelled(*TUNING)
    assert len(rows) >= 40
    assert sum(r["match"] for r in rows) >= 20 and sum(not r["match"] for r in rows) >= 20
    assert all(isinstance(r["match"], bool) and r["why"] for r in rows)


def test_offline_judge_agrees_with_the_tuning_labels():
    rows = labelled(*TUNING)
    overall = agreement(rows, COMPONENT_THRESHOLD, REPLACEMENT_THRESHOLD)
    seeds = agreement([r for r in rows if r["file"] == "judge_pairs.jsonl"], COMPONENT_THRESHOLD, REPLACEMENT_THRESHOLD)
    print(f"offline judge agreement: {overall:.3f} on {len(rows)} pairs; {seeds:.3f} on the seed-plan pairs")
    assert overall >= 0.90 and seeds >= 0.93


def test_chosen_thresholds_are_the_best_on_the_tuning_labels():
    rows = labelled(*TUNING)
    chosen = agreement(rows, COMPONENT_THRESHOLD, REPLACEMENT_THRESHOLD)
    grid = [agreement(rows, c / 100, r / 100) for c in range(30, 96, 5) for r in range(30, 91, 10)]
    assert chosen == max(grid)


def test_offline_judge_action_rules():
    remove = Ablation(name="no predictor", ablated_part="predictor MLP", action="REMOVE", metrics=["acc"])
    replace_none = Ablation(name="predictor", ablated_part="predictor MLP", action="REPLACE",
                            replacement=["none", "linear layer"], metrics=["acc"])
    replace_real = Ablation(name="predictor", ablated_part="predictor MLP", action="REPLACE",
                            replacement=["linear layer"], metrics=["acc"])
    add = Ablation(name="predictor", ablated_part="predictor MLP", action="ADD", replacement=["second MLP"], metrics=["acc"])
    assert pair_matches(remove, replace_none) and not pair_matches(remove, replace_real)
    assert not pair_matches(remove, add)
    assert offline_match([remove, add], [replace_none]) == {(0, 0)}
