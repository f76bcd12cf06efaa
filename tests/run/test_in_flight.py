"""Work in flight: a synchronous run never buys what a batch of the manifest is buying, and `--cancel`
stops every unfinished batch of the folder once, saying that a rerun buys the cancelled requests again."""

from __future__ import annotations

import json

import pytest
from batchhelp import (
    batch,
    batch_server,
    cancels,
    cards,
    failures,
    outside,
    shards,
    sync_calls,
    with_neighbour,
)

from planner.cli.main import main


@pytest.fixture
def server(monkeypatch):
    with batch_server(monkeypatch) as srv:
        yield srv


def run(out, paper: str = "simsiam", model: str = "gpt-4o") -> int:
    return main(["run", "--paper", paper, "--model", model, "--out", str(out)])


@pytest.mark.parametrize("model", ["gpt-4o", "claude-3.5-sonnet"])
def test_a_request_in_a_running_batch_is_refused_then_collected_never_bought(server, tmp_path, capsys, model):
    server.batches.polls_until_done = 100
    out, before = tmp_path / "out", with_neighbour(tmp_path)
    assert batch(out, "--no-wait", models=model) == 0
    (batch_id,) = [b.id for b in server.batches.created]
    capsys.readouterr()

    assert run(out, model=model) == 1
    err = capsys.readouterr().err
    line = next(x for x in err.splitlines() if "FAILED" in x)
    assert batch_id in line and "has not ended" in line and "--cancel" in line and "Traceback" not in err
    assert batch(out, models=model, via="sync") == 1
    assert sync_calls(server) == [] and cards(out) == []
    recorded = failures(out)
    assert len(recorded) == 4 and all(batch_id in f["reason"] for f in recorded)
    assert all(f["provenance"]["attempts"] == 0 for f in recorded)  # nothing was sent, nothing paid

    server.batches.polls_until_done = 1  # the batch ends: the synchronous run uses its answers
    assert run(out, model=model) == 0
    printed = capsys.readouterr().out
    assert "5 ablations" in printed and "answered from the cache" not in printed  # bought by the batch, for this run
    assert batch(out, models=model, via="sync") == 0
    assert len(cards(out)) == 3 and sync_calls(server) == [] and len(server.batches.created) == 1
    stored = json.loads((cards(out)[0].with_suffix(".json")).read_text(encoding="utf-8"))["provenance"]
    assert stored["batch_ids"] == [batch_id] and stored["cost_usd"] * 2 == pytest.approx(stored["sync_cost_usd"])
    assert outside(tmp_path, out) == before


def test_cancel_stops_every_unfinished_batch_of_the_folder_once(server, tmp_path, capsys):
    server.batches.polls_until_done = 100
    out, before = tmp_path / "out", with_neighbour(tmp_path)
    assert batch(out, "--no-wait", models="gpt-4o,claude-3.5-sonnet") == 0
    capsys.readouterr()
    # this command names one job of one model; every unfinished batch of the folder is cancelled
    assert batch(out, "--cancel", papers="simsiam", models="gpt-4o") == 0
    printed = capsys.readouterr().out
    assert "cancelled 2 batch(es)" in printed and "buys them again" in printed
    assert all(b.cancelled for b in server.batches.created) and len(cancels(server)) == 2
    assert [s["state"] for s in shards(out)] == ["cancelled", "cancelled"]

    assert batch(out, "--cancel", models="claude-3.5-sonnet") == 0  # a second --cancel: nothing new
    assert "no unfinished batches to cancel" in capsys.readouterr().out and len(cancels(server)) == 2

    server.batches.polls_until_done = 1
    assert batch(out, models="gpt-4o,claude-3.5-sonnet") == 0  # collects, then buys the cancelled lines again
    assert len(cards(out)) == 6 and len(server.batches.created) == 4 and sync_calls(server) == []
    assert all(s["state"] == "collected" for s in shards(out)) and outside(tmp_path, out) == before


def test_cancel_gives_up_an_emitted_batch_file(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    out, emitted = tmp_path / "out", tmp_path / "r.jsonl"
    args = ["batch", "--papers", "simsiam", "--models", "compatible:qwen", "--via", "batch-file", "--out", str(out)]
    assert main([*args, "--emit", str(emitted)]) == 0
    assert main([*args, "--cancel"]) == 0
    assert "cancelled 1 batch(es)" in capsys.readouterr().out
    assert main([*args, "--cancel"]) == 0
    assert "no unfinished batches to cancel" in capsys.readouterr().out
