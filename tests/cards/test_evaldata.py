"""The site reads eval's files as data: a missing, malformed or linked-away file never breaks regenerate;
the page then shows no scores and one warning says why."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from sitedata import row, store, trajectory, write_eval

from planner.cards.evaldata import latest_evaluations
from planner.cards.regenerate import regenerate
from planner.core.schema import Ablation

TRUTH = [Ablation(name=f"truth {i}", ablated_part=f"part {i}", action="REMOVE", metrics=["accuracy"])
         for i in range(3)]
TABLE = [{"model": "gpt-4o", "n": 1, **{m: [0.5, 0.25, 0.75] for m in ("precision", "recall", "f1", "ndcg")}}]


@pytest.fixture
def evaluated(tmp_path: Path) -> tuple[Path, Path]:
    """Two plans for one paper and a valid evaluation of both; returns the output folder and the run's."""
    plans = [trajectory("simsiam", "gpt-4o"), trajectory("simsiam", "o3-mini")]
    out = store(tmp_path / "out", plans)
    run = write_eval(out, [row(plans[0], TRUTH, [(0, 1)]), row(plans[1], TRUTH, [])], by_model=TABLE)
    return out, run


def scores_shown(out: Path) -> bool:
    summary, _ = regenerate(out)
    assert not summary.failed
    front = (out / "site/index.html").read_text(encoding="utf-8")
    return "Latest evaluation" in front and 'class="s' in front


def test_a_valid_evaluation_is_read(evaluated):
    out, _ = evaluated
    found = latest_evaluations(out, ["author", "reviewer"])
    assert list(found) == ["author"]
    evaluation = found["author"]
    assert evaluation.rows[("simsiam", "gpt-4o")].matches == [(0, 1)]
    assert [(m.model, m.n, m.values[2]) for m in evaluation.table] == [("gpt-4o", 1, (0.5, 0.25, 0.75))]
    assert scores_shown(out)


def _latest_garbage(out: Path, run: Path) -> None:
    (out / "eval/latest.json").write_text("{not json", encoding="utf-8")


def _latest_escapes(out: Path, run: Path) -> None:
    (out / "eval/latest.json").write_text(json.dumps({"author": "../../elsewhere"}), encoding="utf-8")


def _no_run_record(out: Path, run: Path) -> None:
    (run / "run.json").unlink()


def _run_of_another_task(out: Path, run: Path) -> None:
    record = json.loads((run / "run.json").read_text(encoding="utf-8"))
    (run / "run.json").write_text(json.dumps({**record, "task": "reviewer"}), encoding="utf-8")


def _bad_table(out: Path, run: Path) -> None:
    record = json.loads((run / "run.json").read_text(encoding="utf-8"))
    (run / "run.json").write_text(json.dumps({**record, "by_model": [{"model": "gpt-4o", "n": 1, "f1": 0.5}]}))


def _truncated_row(out: Path, run: Path) -> None:
    with open(run / "results.jsonl", "a", encoding="utf-8") as fh:
        fh.write('{"model": "gpt-4o", "slug": "gpt-4o", "paper": "smm", "ta\n')


def _match_out_of_range(out: Path, run: Path) -> None:
    rows = [json.loads(line) for line in (run / "results.jsonl").read_text(encoding="utf-8").splitlines()]
    rows[0]["matches"] = [[0, 7]]  # ground truth has 3 entries
    (run / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


def _score_out_of_range(out: Path, run: Path) -> None:
    rows = [json.loads(line) for line in (run / "results.jsonl").read_text(encoding="utf-8").splitlines()]
    rows[1]["f1"] = float("nan")
    (run / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


def _chart_not_png(out: Path, run: Path) -> None:
    (run / "f1_by_model.png").write_text("<svg onload=alert(1)>", encoding="utf-8")


def _results_link_out(out: Path, run: Path) -> None:
    outside = out.parent / "outside.jsonl"
    (run / "results.jsonl").rename(outside)
    (run / "results.jsonl").symlink_to(outside)


def _eval_folder_link_out(out: Path, run: Path) -> None:
    moved = out.parent / "moved-eval"
    (out / "eval").rename(moved)
    (out / "eval").symlink_to(moved)


@pytest.mark.parametrize("damage", [
    _latest_garbage, _latest_escapes, _no_run_record, _run_of_another_task, _bad_table, _truncated_row,
    _match_out_of_range, _score_out_of_range, _chart_not_png, _results_link_out, _eval_folder_link_out,
], ids=lambda f: f.__name__.strip("_"))
def test_a_broken_evaluation_shows_no_scores_and_warns_once(evaluated, damage, caplog):
    out, run = evaluated
    damage(out, run)
    with caplog.at_level(logging.WARNING, logger="planner.cards.evaldata"):
        assert not scores_shown(out)
    warnings = [r for r in caplog.records if r.name == "planner.cards.evaldata"]
    assert len(warnings) == 1, [r.getMessage() for r in warnings]
    assert "no scores" in warnings[0].getMessage() or "no author-task scores" in warnings[0].getMessage()
    paper = (out / "site/eval/author/simsiam.html").read_text(encoding="utf-8")
    assert "not evaluated yet" in paper and "data-matches" not in paper


def test_no_evaluation_is_no_warning(tmp_path: Path, caplog):
    out = store(tmp_path / "out", [trajectory("simsiam")])
    with caplog.at_level(logging.WARNING):
        assert not scores_shown(out)
    assert caplog.records == []
    assert "No evaluation yet" in (out / "site/index.html").read_text(encoding="utf-8")
