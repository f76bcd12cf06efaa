"""Blind human labels of which planned ablations match which ground-truth ablations.

A labelling is a pair of files in one folder: `packet_<X>.jsonl` (per plan: its id,
paper, model, the plan's ablations and the paper's ground truth, each item with its
0-based `index`) and `labels_<X>.jsonl` (per plan, in the packet's order: `pairs`, the
[ground-truth index, plan index] pairs the labeller matched; `unsure`, pairs they
decided not to match). Every pair not listed is a non-match. tests/data/labels/ holds
the labellings this project made (its README says how).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from planner.core.schema import Ablation
from planner.eval.offline import Match


@dataclass(frozen=True)
class LabelledPlan:
    """One plan, its paper's ground truth, and the pairs a labeller matched ((plan, truth), 0-based)."""

    id: str
    paper: str
    model: str
    plan: list[Ablation] = field(hash=False)
    truth: list[Ablation] = field(hash=False)
    matches: Match = field(hash=False)
    unsure: Match = field(hash=False, default_factory=set)


def _items(rows: list[dict], where: str) -> list[Ablation]:
    if [r.get("index") for r in rows] != list(range(len(rows))):
        raise ValueError(f"{where}: items must carry the indices 0, 1, 2, ... in order")
    return [Ablation(**{k: v for k, v in r.items() if k != "index"}) for r in rows]


def _pairs(raw: list[list], plan: int, truth: int, where: str) -> Match:
    pairs: Match = set()
    for entry in raw:
        g, p = entry[0], entry[1]
        if not (isinstance(g, int) and isinstance(p, int) and 0 <= g < truth and 0 <= p < plan):
            raise ValueError(f"{where}: pair {entry[:2]} points outside the plan ({plan}) or ground truth ({truth})")
        pairs.add((p, g))
    return pairs


def load_labelling(folder: Path, name: str) -> list[LabelledPlan]:
    """The plans of `packet_<name>.jsonl` with the labels of `labels_<name>.jsonl`, in packet order."""
    packets = _jsonl(folder / f"packet_{name}.jsonl")
    labels = _jsonl(folder / f"labels_{name}.jsonl")
    if [p["id"] for p in packets] != [lab["id"] for lab in labels]:
        raise ValueError(f"{folder}: labels_{name} does not follow packet_{name} line by line")
    out = []
    for packet, label in zip(packets, labels):
        where = f"{folder / f'labels_{name}.jsonl'}: {packet['id']}"
        plan, truth = _items(packet["plan"], where), _items(packet["ground_truth"], where)
        out.append(LabelledPlan(packet["id"], packet["paper"], packet["model"], plan, truth,
                                _pairs(label["pairs"], len(plan), len(truth), where),
                                _pairs(label.get("unsure", []), len(plan), len(truth), where)))
    return out


def _jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def load_named(path: Path) -> list[LabelledPlan]:
    """The older held-out set (tests/data/judge_heldout.jsonl): per plan, `matches` maps a ground-truth
    name to the names of the plan items that match it."""
    out = []
    for row in _jsonl(path):
        plan = [Ablation(**a) for a in row["plan"]]
        truth = [Ablation(**g) for g in row["ground_truth"]]
        names, truth_names = [a.name for a in plan], [g.name for g in truth]
        pairs = {(names.index(p), truth_names.index(g)) for g, ps in row["matches"].items() for p in ps}
        out.append(LabelledPlan(row["id"], row["paper"], row["model"], plan, truth, pairs))
    return out
