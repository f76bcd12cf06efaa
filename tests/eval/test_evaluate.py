"""`planner eval` and `export` on the imported seeds: folders per task and filter, display names,
LM judges that answer badly, judges through the batch engines, the reviewer task."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from conftest import SECRET
from fakeserver import FakeServer, Reply

from planner.cli.main import main

ROOT = Path(__file__).parents[2]


@pytest.fixture
def seeded(tmp_path: Path) -> Path:
    out = tmp_path / "out"
    assert main(["import-cards", str(ROOT / "seeds"), "--out", str(out)]) == 0
    return out


def test_eval_offline_scores_the_seeds_without_a_key(seeded, capsys, monkeypatch):
    for var in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "OPENROUTER_API_KEY"):
        monkeypatch.delenv(var, raising=False)
    capsys.readouterr()
    assert main(["eval", "--out", str(seeded), "--judge", "offline", "--json"]) == 0
    captured = capsys.readouterr()
    rows = [json.loads(line) for line in captured.out.splitlines()]
    assert {(r["model"], r["paper"]) for r in rows} == {  # display names, never the dotless folder form
        ("llama-3.1-405b-instruct", "backgroundmattingv2"), ("claude-3.5-sonnet", "backgroundmattingv2"),
        ("claude-3.5-sonnet", "smm"), ("llama-3.1-405b-instruct", "simsiam"),
    }
    assert all({"precision", "recall", "f1", "ndcg"} <= set(r) and 0 <= r["f1"] <= 1 for r in rows)
    assert "dad-3dheads: no ground truth" in captured.err
    folder = seeded / "eval" / "author" / "offline"
    report = (folder / "report.md").read_text(encoding="utf-8")
    cells = [c.strip() for line in report.splitlines() if line.startswith("| ") for c in line.split("|") if "[" in c]
    assert len(cells) == 8 and "Task: author" in report and "![f1 by model](f1_by_model.png)" in report
    assert all(re.fullmatch(r"\d\.\d{3} \[\d\.\d{3}, \d\.\d{3}\]", c) for c in cells)  # mean [95% interval]
    png = (folder / "f1_by_model.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5000
    assert main(["eval", "--out", str(seeded), "--judge", "offline", "--top-k", "3"]) == 0
    assert "f1@3" in capsys.readouterr().out and (seeded / "eval" / "author" / "offline-top3" / "report.md").is_file()


def test_each_run_records_what_it_scored_and_the_latest_run_per_task(seeded, capsys):
    """results.jsonl rows carry the names behind the match indices; run.json says what was scored;
    eval/latest.json points at the newest run of each task (what the site shows)."""
    assert main(["eval", "--out", str(seeded), "--judge", "offline"]) == 0
    folder = seeded / "eval" / "author" / "offline"
    rows = [json.loads(line) for line in (folder / "results.jsonl").read_text(encoding="utf-8").splitlines()]
    for row in rows:
        assert len(row["plan"]) == row["planned"] and len(row["truth"]) == row["ground_truth"]
        assert row["slug"] and all(0 <= i < row["planned"] and 0 <= j < row["ground_truth"] for i, j in row["matches"])
        assert {"name", "ablated_part", "action", "replacement", "metrics"} == set(row["truth"][0])
    record = json.loads((folder / "run.json").read_text(encoding="utf-8"))
    assert (record["task"], record["judge"], record["ground_truth"], record["scored"]) == ("author", "offline",
                                                                                          "library", len(rows))
    assert record["metrics"] == ["precision", "recall", "f1", "ndcg"]  # and the table eval printed, per model:
    assert [(m["model"], m["n"]) for m in record["by_model"]] == [("claude-3.5-sonnet", 2), ("llama-3.1-405b-instruct", 2)]
    claude = [r["f1"] for r in rows if r["model"] == "claude-3.5-sonnet"]
    assert record["by_model"][0]["f1"][0] == pytest.approx(sum(claude) / 2)
    assert min(claude) <= record["by_model"][0]["f1"][1] <= record["by_model"][0]["f1"][2] <= max(claude)
    assert json.loads((seeded / "eval" / "latest.json").read_text(encoding="utf-8")) == {"author": "author/offline"}
    assert main(["eval", "--out", str(seeded), "--judge", "offline", "--top-k", "2"]) == 0
    assert json.loads((seeded / "eval" / "latest.json").read_text(encoding="utf-8")) == {"author": "author/offline-top2"}


def test_a_filtered_eval_gets_its_own_folder(seeded, capsys):
    assert main(["eval", "--out", str(seeded), "--judge", "offline"]) == 0
    full = (seeded / "eval/author/offline/report.md").read_text(encoding="utf-8")
    assert main(["eval", "--out", str(seeded), "--judge", "offline", "--models", "claude-35-sonnet"]) == 0
    assert (seeded / "eval/author/offline/report.md").read_text(encoding="utf-8") == full  # not overwritten
    filtered = [p for p in (seeded / "eval/author").iterdir() if p.name.startswith("offline-")]
    assert len(filtered) == 1
    text = (filtered[0] / "report.md").read_text(encoding="utf-8")
    assert "models claude-35-sonnet" in text and "| claude-3.5-sonnet | 2 |" in text and "llama" not in text


def test_eval_usage_errors(seeded, capsys, tmp_path):
    assert main(["eval", "--out", str(seeded), "--judge", "offline", "--models", "nobody"]) == 2
    assert main(["eval", "--out", str(seeded), "--judge", "offline", "--top-k", "0"]) == 2
    assert main(["eval", "--out", str(seeded), "--judge", "gtp-4o"]) == 2
    assert main(["eval", "--out", str(tmp_path / "absent"), "--judge", "offline"]) == 2
    err = capsys.readouterr().err
    assert err.count("planner: error:") == 4 and "did you mean gpt-4o" in err


def test_reviewer_eval_reports_duplicates_of_reported_ablations(tmp_path, capsys):
    out = tmp_path / "out"
    cards = tmp_path / "cards"
    cards.mkdir()
    seed = (ROOT / "seeds").glob("*.txt")
    for path in seed:  # the same plans as reviewer cards (green box)
        text = path.read_bytes().decode("utf-8").encode("cp1252").decode("utf-8")
        text = text.replace("#f3e5f5 0%, #e1bee7 100%); border-left: 5px solid #9c27b0",
                            "#e8f5e8 0%, #c8e6c9 100%); border-left: 5px solid #4caf50").replace(
            '<h2 style="color: #7b1fa2;', '<h2 style="color: #2e7d32;')
        (cards / path.name).write_text(text, encoding="utf-8")
    assert main(["import-cards", str(cards), "--out", str(out)]) == 0
    capsys.readouterr()
    assert main(["eval", "--out", str(out), "--judge", "offline", "--task", "reviewer"]) == 0
    printed = capsys.readouterr().out
    assert "duplicate_share" in printed and "f1" not in printed
    report = (out / "eval/reviewer/offline/report.md").read_text(encoding="utf-8")
    assert "needs reviewer data" not in report and "cannot be measured here" in report
    assert not (out / "eval/author").exists()


def _judge_first_items(request) -> Reply:
    """A judge model that always matches the first item of list A with the first of list B."""
    return Reply.json({"reasoning": "the first two agree", "matches": [{"a": 1, "b": 1}]})


@pytest.fixture
def judge_env(monkeypatch):
    with FakeServer(default=_judge_first_items) as srv:
        for var in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY"):
            monkeypatch.setenv(var, SECRET)
        monkeypatch.setenv("OPENAI_BASE_URL", srv.openai_base_url)
        monkeypatch.setenv("ANTHROPIC_BASE_URL", srv.anthropic_base_url)
        yield srv


def test_a_judge_answer_that_is_not_json_gets_repairs_then_a_recorded_failure(seeded, judge_env, capsys):
    judge_env.default = None
    judge_env.push(*[Reply.text("I think they all match.")] * 3, *[Reply.json({"matches": "all"})] * 3)
    code = main(["eval", "--out", str(seeded), "--judge", "gpt-4o", "--papers", "simsiam,smm", "--concurrency", "1"])
    assert code == 1
    (folder,) = (seeded / "eval/author").iterdir()  # gpt-4o, filtered to two papers
    failures = [json.loads(x) for x in (folder / "failures.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(failures) == 2 and len(judge_env.requests) == 6  # first answer + 2 repair turns each
    reasons = " ".join(f["reason"] for f in failures)
    assert "not valid JSON" in reasons and "matches" in reasons
    repair = judge_env.requests[1].body["messages"][-1]["content"]
    assert "cannot be used" in repair and "not valid JSON" in repair
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert not list((seeded / ".cache").rglob("*.json"))  # failed judgements are not replayed for free


def test_a_judge_points_with_integers_only(seeded, judge_env, capsys):
    judge_env.default = None
    judge_env.push(*[Reply.json({"reasoning": "r", "matches": [{"a": value, "b": 1}]}) for value in (True, "1", 1.0)])
    code = main(["eval", "--out", str(seeded), "--judge", "gpt-4o", "--papers", "simsiam", "--concurrency", "1"])
    assert code == 1 and len(judge_env.requests) == 3  # two repair turns, then a recorded failure
    (folder,) = (seeded / "eval/author").iterdir()
    (failure,) = [json.loads(x) for x in (folder / "failures.jsonl").read_text(encoding="utf-8").splitlines()]
    assert "valid integer" in failure["reason"]
    assert "valid integer" in judge_env.requests[1].body["messages"][-1]["content"]


def test_lm_judge_through_the_batch_api(seeded, judge_env, capsys):
    judge_env.batches.polls_until_done = 1
    code = main(["eval", "--out", str(seeded), "--judge", "gpt-4o,claude-3.5-sonnet,offline", "--via", "batch-api",
                 "--poll-interval", "0.01", "--json"])
    assert code == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    from planner.eval.judges import Sides

    assert len(rows) == 4
    for row in rows:  # both LM judges matched the same shown pair: it wins the vote, mapped back to plan/truth
        sides = Sides.draw(f"0:{row['paper']}", row["planned"], row["ground_truth"])
        pair = next(iter(sides.back([(0, 0)])))
        assert pair in map(tuple, row["matches"])
    paths = [r.path for r in judge_env.requests]
    assert "/v1/chat/completions" not in paths and "/v1/messages" not in paths  # no synchronous judge call
    assert len(judge_env.batches.created) == 2
    again = main(["eval", "--out", str(seeded), "--judge", "gpt-4o,claude-3.5-sonnet,offline", "--via", "batch-api",
                  "--poll-interval", "0.01"])
    assert again == 0 and len(judge_env.batches.created) == 2  # the cache answered everything


def test_export_matches_ablationbench_planner_format(seeded, capsys, tmp_path):
    assert main(["export", "--out", str(seeded)]) == 0
    folder = seeded / "export" / "author" / "llama-31-405b-instruct"
    plans = json.loads((folder / "plans.json").read_text(encoding="utf-8"))
    assert set(plans) == {"backgroundmattingv2", "simsiam"}
    assert set(plans["simsiam"]) == {"predictions", "cost"}
    lines = (folder / "simsiam.jsonl").read_text(encoding="utf-8").splitlines()
    assert plans["simsiam"]["predictions"].splitlines() == lines and len(lines) == 5
    first = json.loads(lines[0])
    assert list(first) == ["name", "ablated_part", "action", "replacement", "metrics"]
    assert main(["export", "--out", str(tmp_path / "missing")]) == 2
    (tmp_path / "empty").mkdir()
    assert main(["export", "--out", str(tmp_path / "empty")]) == 2
    assert main(["export", "--out", str(seeded), "--task", "reviewer"]) == 2
    err = capsys.readouterr().err
    assert err.count("nothing to export") == 3


def _user_paper(out: Path, seeded_plan_of: str = "simsiam") -> None:
    """A plan for a paper from the user's own file (not in the library), stored like any other."""
    from planner.cards.card import write_card
    from planner.cards.regenerate import Summary, load_all
    from planner.cards.store import save_trajectory

    t = next(t for t in load_all(out, Summary()) if t.paper == seeded_plan_of)
    mine = t.model_copy(update={"paper": "my-paper",
                                "provenance": t.provenance.model_copy(update={"paper_origin": "file"})})
    save_trajectory(out, mine, write_card(mine))


def _truth_file(folder: Path, paper: str, entries: list[dict]) -> Path:
    folder.mkdir(exist_ok=True)
    path = folder / f"{paper}.json"
    path.write_text(json.dumps({"paper": paper, "ablations": entries}), encoding="utf-8")
    return path


def test_eval_scores_plans_against_ground_truth_the_user_gives(seeded, capsys, tmp_path):
    """Evidence fields are optional; a paper from a file is scored; the report and run.json say whose truth."""
    _user_paper(seeded)
    stored = json.loads((seeded / "lm-planner/llama-31-405b-instruct/simsiam.json").read_text(encoding="utf-8"))
    first = stored["plan"]["ablations"][0]
    truth = tmp_path / "truth"
    _truth_file(truth, "my-paper", [first | {"name": "The first one"},
                                    {"name": "Nothing like it", "ablated_part": "the colour of the logo",
                                     "action": "ADD", "replacement": ["purple"], "metrics": []}])
    capsys.readouterr()
    assert main(["eval", "--out", str(seeded), "--judge", "offline", "--ground-truth", str(truth), "--json"]) == 0
    captured = capsys.readouterr()
    (row,) = [json.loads(line) for line in captured.out.splitlines()]
    assert (row["paper"], row["ground_truth"], row["found"]) == ("my-paper", 2, 1) and [0, 0] in row["matches"]
    assert "backgroundmattingv2" in captured.err and "no backgroundmattingv2.json" in captured.err
    (folder,) = [p for p in (seeded / "eval/author").iterdir() if p.name.startswith("offline-")]
    record = json.loads((folder / "run.json").read_text(encoding="utf-8"))
    assert record["ground_truth"] == str(truth.resolve()) and record["scored"] == 1
    report = (folder / "report.md").read_text(encoding="utf-8")
    assert f"Ground truth: the user's ground truth in {truth.resolve()}" in report
    assert '-> ground truth 1 "The first one"' in report and 'ground truth not found: 2 "Nothing like it"' in report
    assert not (seeded / "eval/author/offline").exists()  # the library's run keeps its own folder


def test_bad_ground_truth_folders_are_one_line_usage_errors(seeded, capsys, tmp_path):
    entry = {"name": "x", "ablated_part": "y", "action": "REMOVE"}
    cases = {}
    bad_json = tmp_path / "bad_json"
    _truth_file(bad_json, "p", [entry]).write_text("{not json", encoding="utf-8")
    cases[bad_json] = "not valid JSON"
    wrong = tmp_path / "wrong"
    _truth_file(wrong, "p", [entry]).write_text(json.dumps({"plan": []}), encoding="utf-8")
    cases[wrong] = "not a valid ground-truth file"
    other = tmp_path / "other"
    _truth_file(other, "p", [entry]).rename(other / "q.json")
    cases[other] = "says it is for 'p', not 'q'"
    link = tmp_path / "link"
    link.mkdir()
    (link / "p.json").symlink_to(_truth_file(tmp_path / "outside", "p", [entry]))
    cases[link] = "a link that points outside"
    fifo = tmp_path / "fifo"
    fifo.mkdir()
    os.mkfifo(fifo / "p.json")
    cases[fifo] = "not a regular file"
    cases[tmp_path / "absent"] = "no such folder"
    (tmp_path / "empty").mkdir()
    cases[tmp_path / "empty"] = "no .json files"
    for folder, message in cases.items():
        capsys.readouterr()
        assert main(["eval", "--out", str(seeded), "--judge", "offline", "--ground-truth", str(folder)]) == 2, folder
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1 and "Traceback" not in err, err
    assert not (seeded / "eval").exists()  # nothing was written for a refused folder


def test_the_report_names_the_matched_ablations(seeded, capsys):
    assert main(["eval", "--out", str(seeded), "--judge", "offline"]) == 0
    folder = seeded / "eval/author/offline"
    rows = [json.loads(line) for line in (folder / "results.jsonl").read_text(encoding="utf-8").splitlines()]
    report = (folder / "report.md").read_text(encoding="utf-8")
    assert report.count("\n### ") == len(rows)
    for row in rows:
        for i, j in row["matches"]:
            names = (row["plan"][i], row["truth"][j]["name"])
            assert f'plan {i + 1} "{names[0]}" -> ground truth {j + 1} "{names[1]}"' in report, names


def test_names_in_the_report_cannot_inject_markup():
    from planner.eval.metrics import Score
    from planner.eval.report import match_sections

    s = Score(model="m", paper="p", task="author", precision=1, recall=1, f1=1, ndcg=1, planned=1, ground_truth=1,
              found=1, matches=[(0, 0)], plan=["<script>x</script> *bold*\nline"], truth=[{"name": "[a](b) | c"}])
    text = "\n".join(match_sections([s], "author"))
    assert '"\\<script\\>x\\</script\\> \\*bold\\* line" -> ground truth 1 "\\[a\\](b) \\| c"' in text
