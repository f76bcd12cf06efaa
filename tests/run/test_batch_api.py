"""`planner batch --via batch-api` against the local batch endpoints, through the real SDKs.

Answers come back shuffled, lines error, expire or vanish, a batch fails on a token
limit, repairs need a second round, and the process is killed while batches are in
flight; every job still ends in a valid card or a recorded failure, nothing is bought
twice, and no synchronous model call is made for OpenAI or Anthropic jobs.
"""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest
from batchhelp import ROOT, batch_server, cards, spawn, sync_calls, valid, wait_for
from batchhelp import batch as run_batch
from conftest import plan_obj
from fakeserver import FakeServer, Reply

from planner.cards.card import read_card_file
from planner.cli.main import main


@pytest.fixture
def server(monkeypatch):
    with batch_server(monkeypatch) as srv:
        yield srv


def batch(out: Path, *extra: str, papers: str = "simsiam,smm,dit", models: str = "gpt-4o,claude-3.5-sonnet") -> int:
    return run_batch(out, *extra, papers=papers, models=models)


def test_every_library_paper_through_both_engines_despite_errors_and_truncation(server, tmp_path, capsys):
    fates = {}

    def fate(custom_id: str, body: dict) -> str | None:
        """The first batch line of each engine errors; it goes out again in the next round."""
        kind = "anthropic" if "tools" in body else "openai"
        if kind not in fates:
            fates[kind] = custom_id
            return "error"
        return None

    truncated = {"done": False}

    def answer(request) -> Reply:
        if not truncated["done"]:
            truncated["done"] = True
            return Reply.truncated('{"reasoning": "cut", "ablations": [{"name": "x"')
        return valid(request)

    server.default = answer
    server.batches.line_fate = fate
    server.batches.shuffle = True
    out = tmp_path / "out"
    assert main(["batch", "--all", "--models", "gpt-4o,claude-3.5-sonnet", "--via", "batch-api",
                 "--poll-interval", "0.01", "--out", str(out)]) == 0
    papers = len(list(ROOT.glob("papers/*.md")))
    assert len(cards(out)) == 2 * papers
    assert all(len(read_card_file(c).plan.ablations) == 5 for c in cards(out))
    assert sync_calls(server) == []
    per_engine = {kind: sum(b.kind == kind for b in server.batches.created) for kind in ("openai", "anthropic")}
    assert 2 <= per_engine["openai"] <= 3 and 2 <= per_engine["anthropic"] <= 3  # a few rounds, not one per job
    printed = capsys.readouterr().out
    assert f"{2 * papers} via batch-api" in printed and "the batch discount saved $" in printed
    stored = json.loads(next(out.glob("lm-planner/gpt-4o/*.json")).read_text(encoding="utf-8"))["provenance"]
    assert stored["via"] == "batch-api" and stored["batch_ids"] and stored["sync_cost_usd"] == 2 * stored["cost_usd"]


def test_results_are_matched_by_custom_id_and_missing_lines_go_out_again(server, tmp_path):
    seen: dict[str, int] = {}

    def fate(custom_id: str, body: dict) -> str | None:
        seen[custom_id] = seen.get(custom_id, 0) + 1
        if seen[custom_id] == 1:
            return ["drop", "expire", None, "cancel"][len(seen) % 4]
        return None

    server.batches.line_fate = fate
    server.batches.shuffle = True
    server.batches.empty_error_file_id = True
    out = tmp_path / "out"
    assert batch(out, papers="simsiam,smm,dit,galore", models="gpt-4o") == 0
    assert len(cards(out)) == 4 and sync_calls(server) == []
    for card in cards(out):  # each card's plan is its own paper's (answers were not mixed up)
        paper = card.stem
        assert json.loads(card.with_suffix(".json").read_text(encoding="utf-8"))["paper"] == paper
    assert max(seen.values()) == 2 and len(server.batches.created) == 2


def test_a_line_that_keeps_failing_becomes_a_recorded_failure(server, tmp_path, capsys):
    server.batches.line_fate = lambda cid, body: "error" if "Scalable Diffusion" in json.dumps(body) else None
    out = tmp_path / "out"
    assert batch(out, models="claude-3.5-sonnet") == 1
    failures = [json.loads(x) for x in (out / "failures.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [f["paper"] for f in failures] == ["dit"] and "gave up after 3 batch attempts" in failures[0]["reason"]
    assert len(cards(out)) == 2


def test_an_invalid_request_fails_its_job_at_once(server, tmp_path):
    def answer(request) -> Reply:
        if "Scalable Diffusion" in json.dumps(request.body):
            return Reply.status(400, "max_tokens: too large for this model")
        return valid(request)

    server.default = answer
    out = tmp_path / "out"
    assert batch(out, models="gpt-4o") == 1
    failures = [json.loads(x) for x in (out / "failures.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(failures) == 1 and "HTTP 400" in failures[0]["reason"] and "too large" in failures[0]["reason"]
    assert len(server.batches.created) == 1  # not sent again


def test_repairs_go_out_in_the_next_round(server, tmp_path):
    asked: list[int] = []

    def answer(request) -> Reply:
        asked.append(len(request.body["messages"]))
        return Reply.json(plan_obj(4)) if len(request.body["messages"]) == 2 else valid(request)

    server.default = answer
    out = tmp_path / "out"
    assert batch(out, models="gpt-4o") == 0
    assert sorted(asked) == [2, 2, 2, 4, 4, 4] and len(server.batches.created) == 2
    repair_lines = [line for line in server.batches.lines if len(line["body"]["messages"]) == 4]
    assert all("expected exactly 5 ablations, got 4" in line["body"]["messages"][-1]["content"]
               for line in repair_lines)


def test_a_batch_over_the_token_limit_is_split(server, tmp_path, caplog):
    server.batches.fail_if = lambda b: len(b.lines) > 2
    out = tmp_path / "out"
    assert batch(out, papers="simsiam,smm,dit,galore", models="gpt-4o") == 0
    sizes = [len(b.lines) for b in server.batches.created]
    assert sizes == [4, 2, 2] and len(cards(out)) == 4
    assert "token_limit_exceeded" in caplog.text and "smaller batches" in caplog.text


def test_custom_ids_fit_both_engines_and_a_65_character_id_is_refused(server, tmp_path):
    import anthropic

    out = tmp_path / "out"
    assert batch(out, papers="simsiam", models="claude-3.5-sonnet") == 0
    ids = [line["custom_id"] for line in server.batches.lines]
    assert ids and all(1 <= len(i) <= 64 and i.replace("_", "").replace("-", "").isalnum() for i in ids)
    client = anthropic.Anthropic(api_key="x", base_url=server.anthropic_base_url, max_retries=0)
    with pytest.raises(anthropic.BadRequestError, match="custom_id"):
        client.messages.batches.create(requests=[{"custom_id": "a" * 65, "params": {
            "model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]}}])


def test_no_wait_submits_then_a_rerun_collects(server, tmp_path, capsys):
    server.batches.polls_until_done = 3
    out = tmp_path / "out"
    assert batch(out, "--no-wait") == 0
    assert cards(out) == [] and len(server.batches.created) == 2
    assert "6 job(s) wait for batch answers" in capsys.readouterr().out
    assert batch(out) == 0
    assert len(cards(out)) == 6 and len(server.batches.created) == 2 and sync_calls(server) == []


def test_cancel_stops_the_unfinished_batches_and_a_rerun_collects_what_they_did(server, tmp_path, capsys):
    server.batches.polls_until_done = 100
    out = tmp_path / "out"
    assert batch(out, "--no-wait", models="gpt-4o") == 0
    assert batch(out, "--cancel", models="gpt-4o") == 0
    assert "cancelled 1 batch(es)" in capsys.readouterr().out and server.batches.created[0].cancelled
    server.batches.polls_until_done = 1
    assert batch(out, models="gpt-4o") == 0
    assert len(cards(out)) == 3 and len(server.batches.created) == 2  # the cancelled lines went out once more


def test_openrouter_jobs_run_synchronously_in_the_same_command(server, tmp_path, capsys):
    out = tmp_path / "out"
    assert batch(out, models="gpt-4o,gemini-2.5-flash") == 0
    assert len(cards(out)) == 6 and len(sync_calls(server)) == 3
    assert "3 via batch-api, 3 via sync" in capsys.readouterr().out


@pytest.mark.parametrize("when, models", [
    ("after-the-ids-are-saved", "gpt-4o,claude-3.5-sonnet"),
    ("before-the-id-is-saved", "gpt-4o"),
    ("before-the-id-is-saved", "claude-3.5-sonnet"),
])
def test_killed_with_batches_in_flight_the_rerun_collects_the_same_batches(tmp_path, when, models):
    engines = len(models.split(","))
    with FakeServer(default=valid) as server:
        out = tmp_path / "out"
        server.batches.polls_until_done = 10_000
        if when.startswith("before"):
            server.batches.create_delay = 60  # the batch exists on the server; its id never reaches us
        proc = spawn(out, server, models=models)
        manifest = out / ".planner" / "batches.json"

        def ids_saved() -> bool:
            return manifest.is_file() and manifest.read_text(encoding="utf-8").count('"batch_id": "') == engines

        wait_for((lambda: len(server.batches.created) == engines) if when.startswith("before") else ids_saved)
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=30)
        server.batches.create_delay = 0
        server.batches.polls_until_done = 1
        proc = spawn(out, server, models=models)
        stdout, stderr = proc.communicate(timeout=120)
        assert proc.returncode == 0, stderr
        assert len(server.batches.created) == engines  # no batch bought twice
        assert len(cards(out)) == 3 * engines and sync_calls(server) == []
        assert stderr.count("created before its id could be saved") == (1 if when.startswith("before") else 0)


def test_a_later_synchronous_run_is_answered_from_what_the_batches_bought(server, tmp_path):
    out = tmp_path / "out"
    assert batch(out, models="gpt-4o,claude-3.5-sonnet") == 0
    for card in cards(out):
        card.unlink()
    assert main(["batch", "--papers", "simsiam,smm,dit", "--models", "gpt-4o,claude-3.5-sonnet", "--out",
                 str(out)]) == 0
    assert len(cards(out)) == 6 and sync_calls(server) == []


def test_an_unreadable_manifest_stops_the_command_with_one_line(server, tmp_path, capsys):
    out = tmp_path / "out"
    assert batch(out, papers="simsiam", models="gpt-4o") == 0
    (out / ".planner/batches.json").write_text('{"shards": [', encoding="utf-8")
    (out / "lm-planner/gpt-4o/simsiam.md").unlink()
    capsys.readouterr()
    assert batch(out, papers="simsiam", models="gpt-4o") == 1
    err = capsys.readouterr().err
    assert "batch manifest cannot be read" in err and "move it aside" in err
    assert "internal error" not in err and len(err.strip().splitlines()) == 1
    assert (out / ".planner/batches.json").read_text(encoding="utf-8") == '{"shards": ['  # never replaced
