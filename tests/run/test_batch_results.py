"""What batches send back, at its worst: a batch the provider no longer knows or will not show, result
lines that are odd or contradict each other, and a manifest of the wrong shape. Each ends in one line
and the right exit code, never a poll without end or an internal error, and nothing is bought twice."""

from __future__ import annotations

import json
import logging

import pytest
from batchhelp import (
    batch,
    batch_server,
    cards,
    failures,
    outside,
    shards,
    spawn,
    sync_calls,
    with_neighbour,
)


@pytest.fixture
def server(monkeypatch):
    with batch_server(monkeypatch) as srv:
        yield srv


@pytest.mark.parametrize("model", ["gpt-4o", "claude-3.5-sonnet"])
def test_a_batch_the_provider_no_longer_knows_ends_with_one_line(server, tmp_path, model):
    server.batches.polls_until_done = 100
    out, before = tmp_path / "out", with_neighbour(tmp_path)
    assert batch(out, "--no-wait", models=model) == 0
    server.batches.forget(server.batches.created[0].id)
    proc = spawn(out, server, models=model)
    stdout, stderr = proc.communicate(timeout=60)  # a poll without end would time out here
    assert proc.returncode == 1, stderr
    assert stderr.count("is unknown to the provider") >= 1 and "Traceback" not in stderr
    recorded = failures(out)
    assert len(recorded) == 3 and all("HTTP 404" in f["reason"] for f in recorded)
    assert shards(out)[0]["state"] == "collected" and "404" in shards(out)[0]["error"]
    server.batches.polls_until_done = 1
    assert batch(out, models=model) == 0  # as the line said, a rerun sends them again
    assert len(cards(out)) == 3 and len(server.batches.created) == 2 and outside(tmp_path, out) == before


def test_a_status_check_refused_for_good_keeps_the_batch_for_a_run_that_can_read_it(server, tmp_path):
    server.batches.polls_until_done = 100
    out = tmp_path / "out"
    assert batch(out, "--no-wait") == 0
    batch_id = server.batches.created[0].id
    server.batches.refuse = lambda method, path: (401, "invalid x-api-key") if batch_id in path else None
    proc = spawn(out, server)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 1, stderr
    assert "cannot be read" in stderr and "HTTP 401" in stderr
    assert len(failures(out)) == 3 and shards(out)[0]["state"] == "submitted" and "401" in shards(out)[0]["error"]
    server.batches.refuse = lambda method, path: None
    server.batches.polls_until_done = 1
    assert batch(out) == 0
    assert len(cards(out)) == 3 and len(server.batches.created) == 1 and sync_calls(server) == []


def _odd_openai(batch) -> tuple[list[str], list[str]]:
    first = batch.lines[0]["custom_id"]
    odd = [json.dumps({"custom_id": ["a", "list"], "response": {"status_code": 200, "body": {}}}),
           json.dumps({"custom_id": {"an": "object"}, "response": None, "error": {"code": "x", "message": "y"}}),
           json.dumps({"custom_id": "r-not-ours", "response": {"status_code": 200, "body": {}}}),
           *["{garbled" for _ in range(20)]]
    later_error = json.dumps({"custom_id": first, "response": None,
                              "error": {"code": "invalid_request", "message": "an error after the answer"}})
    return odd, [later_error]


def _odd_anthropic(batch) -> tuple[list[str], list[str]]:
    first = batch.lines[0]["custom_id"]
    odd = [json.dumps({"custom_id": ["a", "list"], "result": {"type": "succeeded", "message": {}}}),
           json.dumps({"custom_id": {"an": "object"}, "result": {"type": "expired"}}),
           *["{garbled" for _ in range(20)],
           json.dumps({"custom_id": first, "result": {"type": "errored", "error": {"type": "error", "error": {
               "type": "invalid_request_error", "message": "an error after the answer"}}}})]
    return odd, []


@pytest.mark.parametrize("model", ["gpt-4o", "claude-3.5-sonnet"])
def test_odd_result_lines_are_passed_over_and_a_bought_answer_wins(server, tmp_path, caplog, capsys, model):
    server.batches.odd_lines = _odd_openai if model == "gpt-4o" else _odd_anthropic
    out, before = tmp_path / "out", with_neighbour(tmp_path)
    with caplog.at_level(logging.WARNING):
        assert batch(out, models=model) == 0
    assert len(cards(out)) == 3 and len(server.batches.created) == 1 and failures(out) == []
    warnings = [r.getMessage() for r in caplog.records if "passed over" in r.getMessage()]
    assert len(warnings) == 6 and "more such lines" in warnings[-1]  # five shown, the rest counted
    assert "internal error" not in capsys.readouterr().err and outside(tmp_path, out) == before


@pytest.mark.parametrize("content", [
    "[]", '{"shards": "abc"}', '{"version": 1, "shards": [{}], "tries": {}, "limits": {}}',
    '{"version": 1, "shards": [{"id": "s", "engine": "e", "model": "m", "entries": {"r": {"key": 1}}}], '
    '"tries": {}, "limits": {}}',
    '{"version": 1, "shards": [{"id": "s", "engine": "e", "model": "m", "entries": {}, "state": "lost"}], '
    '"tries": {}, "limits": {}}',
    '{"shards": [',
])
def test_a_manifest_of_the_wrong_shape_stops_the_command_with_one_line(server, tmp_path, capsys, content):
    out = tmp_path / "out"
    assert batch(out, papers="simsiam") == 0
    (out / ".planner/batches.json").write_text(content, encoding="utf-8")
    (out / "lm-planner/gpt-4o/simsiam.md").unlink()
    capsys.readouterr()
    assert batch(out, papers="simsiam") == 1
    err = capsys.readouterr().err
    assert "batch manifest cannot be read" in err and "move it aside" in err
    assert "internal error" not in err and len(err.strip().splitlines()) == 1
    assert (out / ".planner/batches.json").read_text(encoding="utf-8") == content  # never replaced
    assert len(server.batches.created) == 1


def test_a_poll_that_changes_nothing_does_not_rewrite_the_manifest(server, tmp_path):
    server.batches.polls_until_done = 100
    out = tmp_path / "out"
    assert batch(out, "--no-wait") == 0
    manifest = out / ".planner/batches.json"
    before = manifest.stat()
    assert batch(out, "--no-wait") == 0  # polls once more: still in progress, same counts
    after = manifest.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
