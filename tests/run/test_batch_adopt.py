"""Adopting a batch whose id a kill kept out of the manifest: never another shard's batch, never a guess.

Anthropic batches carry no metadata, so the batch is found by creation time and size; a
batch recorded for another shard is left out, an ended one is compared request by
request, and several unfinished candidates stop the command with one line naming them
(`--adopt BATCH_ID` settles it). Through every path, no request is bought twice.
"""

from __future__ import annotations

import signal

import anthropic
import pytest
from batchhelp import (
    batch,
    batch_server,
    cards,
    outside,
    shards,
    spawn,
    sync_calls,
    wait_for,
    with_neighbour,
)
from conftest import SECRET


@pytest.fixture
def server(monkeypatch):
    with batch_server(monkeypatch) as srv:
        yield srv


def _kill_while_creating(server, out, models: str, creates: int) -> None:
    """Run the command until its `creates`-th batch exists on the server but its id has not come back; kill it."""
    server.batches.polls_until_done = 10_000
    server.batches.create_delay, server.batches.delay_from = 60, creates
    proc = spawn(out, server, models=models)
    wait_for(lambda: len(server.batches.created) == creates)
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=30)
    server.batches.create_delay = 0


def test_a_sibling_shards_batch_is_never_taken_for_the_lost_one(server, tmp_path, capsys):
    """Two shards of one engine, same size: the first's batch is recorded, the second's id was lost."""
    out, before = tmp_path / "out", with_neighbour(tmp_path)
    _kill_while_creating(server, out, "claude-3.5-sonnet,claude-sonnet-4.5", creates=2)
    assert [s["state"] for s in shards(out)] == ["submitted", "creating"]
    server.batches.polls_until_done = 1
    assert batch(out, models="claude-3.5-sonnet,claude-sonnet-4.5") == 0
    assert len(server.batches.created) == 2  # the lost batch was adopted, not bought again
    assert len(cards(out)) == 6 and sync_calls(server) == []
    assert capsys.readouterr().err.count("created before its id could be saved") == 1
    assert outside(tmp_path, out) == before


def _foreign_batch(server, size: int) -> str:
    """Someone else's batch on the same account, of the same size, created after our mark."""
    client = anthropic.Anthropic(api_key=SECRET, base_url=server.anthropic_base_url, max_retries=0)
    created = client.messages.batches.create(requests=[
        {"custom_id": f"theirs-{i}", "params": {"model": "claude-x", "max_tokens": 5,
                                                "messages": [{"role": "user", "content": "hi"}]}}
        for i in range(size)])
    return created.id


@pytest.mark.parametrize("resolution", ["--adopt", "the other batch ended"])
def test_two_batches_that_could_be_ours_stop_the_command_with_one_line(server, tmp_path, capsys, resolution):
    out = tmp_path / "out"
    _kill_while_creating(server, out, "claude-3.5-sonnet", creates=1)
    ours = server.batches.created[0].id
    theirs = _foreign_batch(server, 3)
    capsys.readouterr()
    assert batch(out, models="claude-3.5-sonnet") == 1
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and ours in err and theirs in err
    assert "--adopt BATCH_ID" in err and "nothing was sent again" in err and "internal error" not in err
    assert len(server.batches.created) == 2 and cards(out) == []  # no new batch, no guess
    assert shards(out)[0]["state"] == "creating"

    server.batches.polls_until_done = 1
    if resolution == "--adopt":
        assert batch(out, "--adopt", ours, models="claude-3.5-sonnet") == 0
    else:  # once their batch has ended, its requests show it is not ours
        client = anthropic.Anthropic(api_key=SECRET, base_url=server.anthropic_base_url, max_retries=0)
        assert client.messages.batches.retrieve(theirs).processing_status == "ended"
        assert batch(out, models="claude-3.5-sonnet") == 0
    assert len(server.batches.created) == 2 and len(cards(out)) == 3 and sync_calls(server) == []
    assert shards(out)[0]["batch_id"] == ours


def test_adopt_takes_only_a_batch_planner_named(server, tmp_path, capsys):
    out = tmp_path / "out"
    _kill_while_creating(server, out, "claude-3.5-sonnet", creates=1)
    _foreign_batch(server, 3)
    capsys.readouterr()
    assert batch(out, "--adopt", "msgbatch_not_a_candidate", models="claude-3.5-sonnet") == 1
    assert "could be it" in capsys.readouterr().err and len(server.batches.created) == 2
    assert batch(out, "--adopt", "msgbatch_x", via="sync") == 2
    assert "--adopt belongs to --via batch-api" in capsys.readouterr().err
    server.batches.polls_until_done = 1
    done = tmp_path / "done"
    assert batch(done, papers="simsiam") == 0
    assert batch(done, "--adopt", "msgbatch_x", papers="smm") == 2
    assert "no batch of this command waits to be adopted" in capsys.readouterr().err
