"""`planner batch` through the synchronous driver: concurrency, resume, collisions, --force, money, kills."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import anthropic  # noqa: F401  imported here so SDK import time is not counted as batch time
import openai  # noqa: F401
import pytest
from conftest import SECRET, plan_obj
from fakeserver import FakeServer, Reply

from planner.cards.card import read_card_file
from planner.cli.main import main

ROOT = Path(__file__).parents[2]
PAPERS = "simsiam,smm,dit,galore"


def valid(request) -> Reply:
    return Reply.json(plan_obj(5 if "exactly 5" in json.dumps(request.body) else 7))


@pytest.fixture
def slow_server(monkeypatch):
    with FakeServer(default=valid, latency=0.4) as srv:
        for var in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "OPENROUTER_API_KEY"):
            monkeypatch.setenv(var, SECRET)
        monkeypatch.setenv("OPENAI_BASE_URL", srv.openai_base_url)
        monkeypatch.setenv("ANTHROPIC_BASE_URL", srv.anthropic_base_url)
        monkeypatch.setenv("OPENROUTER_BASE_URL", srv.openai_base_url)
        yield srv


def batch(out: Path, *extra: str, papers: str = PAPERS, models: str = "gpt-4o,claude-3.5-sonnet") -> int:
    return main(["batch", "--papers", papers, "--models", models, "--out", str(out), *extra])


def summary_row(printed: str) -> dict[str, str]:
    """The numbers of the summary table, by column."""
    lines = [line for line in printed.splitlines() if line.startswith(("┃", "│"))]
    heads = [c.strip() for c in lines[0].strip("┃").split("┃")]
    values = [c.strip() for c in lines[1].strip("│").split("│")]
    return dict(zip(heads, values))


def test_concurrent_batch_then_resume_sends_nothing(slow_server, tmp_path, capsys):
    out = tmp_path / "out"
    assert batch(out, "--concurrency", "8") == 0
    assert len(slow_server.requests) == 8
    assert slow_server.most_in_flight >= 4  # the jobs' requests were answered side by side
    assert len(list(out.glob("lm-planner/*/*.md"))) == 8
    row = summary_row(capsys.readouterr().out)
    assert (row["done"], row["skipped"], row["tokens spent"]) == ("8", "0", "1,200")
    assert (out / "trajectories.md").is_file() and (out / "site/index.html").is_file()

    assert batch(out) == 0  # resume: everything is done
    assert len(slow_server.requests) == 8
    row = summary_row(capsys.readouterr().out)
    assert (row["done"], row["skipped"], row["tokens spent"], row["cost (USD)"]) == ("0", "8", "0", "0.0000")


def test_force_asks_again_and_a_cached_answer_keeps_its_provenance(slow_server, tmp_path, capsys):
    out = tmp_path / "out"
    assert batch(out, papers="simsiam", models="gpt-4o") == 0
    card = out / "lm-planner/gpt-4o/simsiam.json"
    first = json.loads(card.read_text(encoding="utf-8"))["provenance"]
    assert first["cached"] is False and first["input_tokens"] == 100
    assert batch(out, "--force", papers="simsiam", models="gpt-4o") == 0
    assert len(slow_server.requests) == 2  # --force asked the model again
    second = json.loads(card.read_text(encoding="utf-8"))["provenance"]
    assert second["cached"] is False and second["cost_usd"] > 0
    card.unlink()  # the card is gone, its answer is in the cache
    capsys.readouterr()
    assert batch(out, papers="simsiam", models="gpt-4o") == 0
    assert len(slow_server.requests) == 2
    third = json.loads(card.read_text(encoding="utf-8"))["provenance"]
    assert third["cached"] is True and third["input_tokens"] == 100 and third["created"] >= second["created"]
    assert summary_row(capsys.readouterr().out)["tokens spent"] == "0"


def test_the_cache_key_includes_the_endpoint_actually_used(slow_server, tmp_path, monkeypatch):
    out = tmp_path / "out"
    assert batch(out, papers="simsiam", models="gpt-4o") == 0
    (out / "lm-planner/gpt-4o/simsiam.md").unlink()
    with FakeServer(default=valid) as other:
        monkeypatch.setenv("OPENAI_BASE_URL", other.openai_base_url)
        assert batch(out, papers="simsiam", models="gpt-4o") == 0
        assert len(other.requests) == 1  # another endpoint's answers are not reused


def test_repeated_inputs_are_one_job(slow_server, tmp_path, capsys):
    out = tmp_path / "out"
    assert batch(out, papers="simsiam,SIMSIAM", models="claude-3.5-sonnet,claude-35-sonnet") == 0
    assert len(slow_server.requests) == 1
    assert [p.relative_to(out).as_posix() for p in out.glob("lm-planner/*/*.md")] == [
        "lm-planner/claude-35-sonnet/simsiam.md"]
    assert read_card_file(out / "lm-planner/claude-35-sonnet/simsiam.md").model == "claude-3.5-sonnet"


def test_a_stored_trajectory_that_does_not_parse_is_planned_again(slow_server, tmp_path, caplog):
    out = tmp_path / "out"
    assert batch(out, papers="simsiam", models="gpt-4o") == 0
    (out / "lm-planner/gpt-4o/simsiam.json").write_text('{"half": ', encoding="utf-8")
    assert batch(out, "--no-cache", papers="simsiam", models="gpt-4o") == 0
    assert len(slow_server.requests) == 2 and "cannot be read" in caplog.text and "planning it again" in caplog.text
    assert json.loads((out / "lm-planner/gpt-4o/simsiam.json").read_text(encoding="utf-8"))["paper"] == "simsiam"


def test_a_changed_request_is_not_silently_skipped(slow_server, tmp_path, capsys):
    out = tmp_path / "out"
    assert batch(out, papers="simsiam", models="gpt-4o") == 0
    capsys.readouterr()
    assert batch(out, "--num-ablations", "7", papers="simsiam", models="gpt-4o") == 0
    assert len(slow_server.requests) == 1
    assert "made from a different request" in capsys.readouterr().err
    assert batch(out, "--num-ablations", "7", "--force", papers="simsiam", models="gpt-4o") == 0
    assert len(read_card_file(out / "lm-planner/gpt-4o/simsiam.md").plan.ablations) == 7


def test_a_plan_that_needed_a_repair_turn_is_done_on_the_rerun(slow_server, tmp_path, capsys):
    answers = iter([Reply.json(plan_obj(2)), Reply.json(plan_obj(5))])  # too short, then right after the repair
    slow_server.default = lambda request: next(answers)
    out = tmp_path / "out"
    assert batch(out, "--no-cache", papers="simsiam", models="gpt-4o") == 0
    stored = json.loads((out / "lm-planner/gpt-4o/simsiam.json").read_text(encoding="utf-8"))["provenance"]
    assert stored["repairs"] == 1 and len(slow_server.requests) == 2
    capsys.readouterr()
    assert batch(out, "--no-cache", papers="simsiam", models="gpt-4o") == 0
    printed = capsys.readouterr()
    assert "different request" not in printed.err
    assert summary_row(printed.out)["skipped"] == "1" and len(slow_server.requests) == 2


def test_one_failing_job_does_not_stop_the_others_and_its_tokens_count(slow_server, tmp_path, capsys):
    def answer(request) -> Reply:
        text = json.dumps(request.body)
        if "Scalable Diffusion Models" in text:
            return Reply.json(plan_obj(2), input_tokens=1000, output_tokens=10)
        return Reply.json(plan_obj(5))

    slow_server.default = answer
    out = tmp_path / "out"
    assert batch(out, "--max-repairs", "0") == 1
    failures = [json.loads(line) for line in (out / "failures.jsonl").read_text().splitlines()]
    assert {(f["paper"], f["model"]) for f in failures} == {("dit", "gpt-4o"), ("dit", "claude-3.5-sonnet")}
    assert failures[0]["errors"] == ["expected exactly 5 ablations, got 2"]
    assert failures[0]["provenance"]["input_tokens"] == 1000
    assert len(list(out.glob("lm-planner/*/*.md"))) == 6
    captured = capsys.readouterr()
    assert summary_row(captured.out)["tokens spent"] == f"{6 * 150 + 2 * 1010:,}"
    line = next(x for x in captured.err.splitlines() if "FAILED" in x)
    assert line.count("on dit") == 1 and not re.search(r"(gpt-4o on dit).*\1", line)


def test_bad_model_or_key_stops_before_anything(slow_server, tmp_path, monkeypatch):
    assert main(["batch", "--papers", PAPERS, "--models", "gpt-4o,nope", "--out", str(tmp_path / "a")]) == 2
    monkeypatch.delenv("ANTHROPIC_API_KEY")
    assert batch(tmp_path / "b") == 2
    assert slow_server.requests == [] and not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


def _spawn_batch(out: Path, server: FakeServer) -> subprocess.Popen:
    env = {**os.environ, "OPENAI_API_KEY": SECRET, "OPENAI_BASE_URL": server.openai_base_url,
           "PYTHONUNBUFFERED": "1", "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-m", "planner", "batch", "--all", "--models", "gpt-4o", "--concurrency", "2",
         "--out", str(out)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
    )


def _wait_for(condition, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT])
def test_killed_batch_keeps_finished_cards_and_resumes(tmp_path, sig):
    with FakeServer(default=valid, latency=0.3) as server:
        out = tmp_path / "out"
        proc = _spawn_batch(out, server)
        _wait_for(lambda: len(list(out.glob("lm-planner/*/*.md"))) >= 4)
        proc.send_signal(sig)
        stdout, stderr = proc.communicate(timeout=30)
        if sig == signal.SIGINT:
            assert proc.returncode == 130 and "batch summary (interrupted)" in stdout
            assert "Traceback" not in stderr
        _wait_for(lambda: server.open_connections == 0, 10)  # every request the dead process sent is counted
        cards = list(out.glob("lm-planner/*/*.md"))
        finished = len(cards)
        assert all(len(read_card_file(c).plan.ablations) == 5 for c in cards)  # none partial
        assert all((c.with_suffix(".json")).is_file() for c in cards)
        sent = len(server.requests)
        proc = _spawn_batch(out, server)
        stdout, stderr = proc.communicate(timeout=120)
        assert proc.returncode == 0, stderr
        total = len(list(out.glob("lm-planner/*/*.md")))
        assert total == len(list(ROOT.glob("papers/*.md")))
        assert len(server.requests) - sent <= total - finished  # finished work was not bought again
        assert not list(out.rglob(".planner-tmp-*"))


@pytest.mark.parametrize("via", ["sync", "batch-api"])
def test_a_finished_sweep_builds_no_sdk_client(provider_env, tmp_path, via):
    """Deciding that nothing is left to do needs no SDK: the clients (and the SDK imports, over a second)
    wait until a request is sent. A missing key still stops the command before anything else."""
    provider_env.default = valid
    provider_env.batches.polls_until_done = 1
    out = tmp_path / "out"
    args = ["batch", "--papers", "simsiam,smm", "--models", "gpt-4o,claude-3.5-sonnet", "--via", via,
            "--poll-interval", "0.01", "--out", str(out)]
    assert main(args) == 0
    probe = ("import sys; from planner.cli.main import main; code = main(sys.argv[1:]); "
             "print(code, sorted(m for m in ('openai', 'anthropic') if m in sys.modules))")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", probe, *args], env=env, cwd=ROOT, capture_output=True, text=True)
    assert done.stdout.strip().splitlines()[-1] == "0 []", done.stdout + done.stderr
    single = ["run", "--paper", "simsiam", "--model", "gpt-4o", "--out", str(out)]
    done = subprocess.run([sys.executable, "-c", probe, *single], env=env, cwd=ROOT, capture_output=True, text=True)
    assert done.stdout.strip().splitlines()[-1] == "0 []", done.stdout + done.stderr
    del env["ANTHROPIC_API_KEY"]
    done = subprocess.run([sys.executable, "-c", probe, *args], env=env, cwd=ROOT, capture_output=True, text=True)
    assert done.stdout.strip().splitlines()[-1] == "2 []" and "ANTHROPIC_API_KEY is not set" in done.stderr
