"""`planner run` end to end: every seed model against the local server, exit codes, secrets."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import SECRET, plan_obj
from fakeserver import Reply

from planner.cards.card import read_card_file
from planner.cli.main import main

SEED_MODELS = {
    "gpt-4o": ("/v1/chat/completions", "gpt-4o"),
    "o3-mini": ("/v1/chat/completions", "o3-mini"),
    "claude-3.5-sonnet": ("/v1/messages", "claude-3-5-sonnet-20241022"),
    "llama-3.1-405b-instruct": ("/v1/chat/completions", "meta-llama/llama-3.1-405b-instruct"),
    "gemini-2.5-flash": ("/v1/chat/completions", "google/gemini-2.5-flash"),
}


@pytest.mark.parametrize("model", SEED_MODELS)
def test_run_writes_card_for_every_seed_model(provider_env, tmp_path, capsys, model):
    provider_env.push(Reply.json(plan_obj(5)))
    out = tmp_path / "out"
    assert main(["run", "--paper", "simsiam", "--model", model, "--out", str(out), "--temperature", "0"]) == 0
    printed = capsys.readouterr()
    slug = model.replace(".", "")
    card = out / "lm-planner" / slug / "simsiam.md"
    assert str(card) in printed.out and "5 ablations" in printed.out and "tokens" in printed.out
    t = read_card_file(card)
    assert t.model == model and len(t.plan.ablations) == 5
    stored = json.loads((out / "lm-planner" / slug / "simsiam.json").read_text(encoding="utf-8"))
    assert stored["provenance"]["provider"] in ("openai", "anthropic", "openrouter")
    request = provider_env.requests[0]
    path, api_id = SEED_MODELS[model]
    assert request.path == path and request.body["model"] == api_id
    if model == "o3-mini":
        assert "temperature" not in request.body and request.body["reasoning_effort"] == "medium"
        assert "takes no temperature" in printed.err
    else:
        assert request.body["temperature"] == 0
    if path == "/v1/messages":
        assert request.body["tool_choice"] == {"type": "tool", "name": "submit_ablation_plan",
                                               "disable_parallel_tool_use": True}
    else:
        assert request.body["response_format"]["json_schema"]["strict"] is True


def test_no_key_is_ever_written(provider_env, tmp_path, capsys):
    provider_env.push(Reply.status(401, f"Incorrect API key provided: {SECRET}"), Reply.json(plan_obj(4)),
                      Reply.json(plan_obj(4)), Reply.json(plan_obj(4)))
    out = tmp_path / "out"
    assert main(["run", "--paper", "simsiam", "--model", "gpt-4o", "--out", str(out)]) == 1
    assert main(["run", "--paper", "smm", "--model", "claude-3.5-sonnet", "--out", str(out)]) == 1
    printed = capsys.readouterr()
    texts = [printed.out, printed.err] + [p.read_text(encoding="utf-8") for p in out.rglob("*") if p.is_file()]
    assert texts and not any(SECRET in text or SECRET[8:20] in text for text in texts)
    failures = [json.loads(line) for line in (out / "failures.jsonl").read_text().splitlines()]
    assert failures[1]["errors"] == ["expected exactly 5 ablations, got 4"]
    assert not list(out.glob("lm-planner/*/*.md"))  # never a partial or short card


def test_missing_key_exits_2_and_writes_nothing(monkeypatch, tmp_path, capsys):
    for var in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "ANTHROPIC_API_KEY", "OPENROUTER_API_KEY"):
        monkeypatch.delenv(var, raising=False)
    for model, var in (("gpt-4o", "OPENAI_API_KEY"), ("claude-3.5-sonnet", "ANTHROPIC_API_KEY"),
                       ("gemini-2.5-flash", "OPENROUTER_API_KEY")):
        assert main(["run", "--paper", "simsiam", "--model", model, "--out", str(tmp_path / "o")]) == 2
        assert f"{var} is not set" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize(
    "args, message",
    [
        (["--model", "gtp-4o"], "did you mean gpt-4o"),
        (["--model", "mystery"], "run 'planner models' for the known names"),
        (["--model", "bogus:x"], "unknown provider 'bogus'"),
        (["--paper", "simsaim"], "did you mean simsiam"),
        (["--num-ablations", "0"], "--num-ablations: '0' is not a whole number of at least 1"),
        (["--model", "compatible:x"], "needs an endpoint"),
    ],
)
def test_usage_errors_exit_2_with_one_line(monkeypatch, tmp_path, capsys, args, message):
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    base = {"--paper": "simsiam", "--model": "gpt-4o"}
    base.update(dict(zip(args[::2], args[1::2])))
    argv = ["run", "--out", str(tmp_path)] + [x for kv in base.items() for x in kv]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


@pytest.mark.parametrize("command", [["batch", "--papers", "simsiam", "--models", "gpt-4o"],
                                     ["eval", "--judge", "offline"]])
def test_no_wait_without_a_batch_engine_is_a_usage_error(tmp_path, capsys, command):
    assert main([*command, "--no-wait", "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "--no-wait belongs to --via batch-api" in err and err.count("\n") == 1
    assert not (tmp_path / "o").exists()


def test_model_names_never_leave_out(provider_env, tmp_path):
    provider_env.push(Reply.json(plan_obj(5)))
    out = tmp_path / "out"
    code = main(["run", "--paper", "simsiam", "--model", "openai:../../evil/../x", "--out", str(out)])
    assert code == 0
    written = [p for p in tmp_path.rglob("*.md")]
    assert written and all(out in p.parents for p in written)


def test_dry_run_needs_no_key_and_sends_nothing(monkeypatch, tmp_path, capsys):
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    assert main(["run", "--paper", "simsiam", "--model", "claude-3.5-sonnet", "--dry-run", "--out", str(tmp_path / "o")]) == 0
    printed = capsys.readouterr()
    params = json.loads(printed.out)
    assert params["model"] == "claude-3-5-sonnet-20241022" and params["tools"][0]["name"] == "submit_ablation_plan"
    assert "Exploring Simple Siamese Representation Learning" in params["messages"][0]["content"]
    assert "input tokens" in printed.err and not (tmp_path / "o").exists()


def test_models_and_papers_commands(capsys):
    assert main(["models", "--json"]) == 0
    listing = json.loads(capsys.readouterr().out)
    names = {m["name"]: m for m in listing["models"]}
    assert set(SEED_MODELS) <= set(names) and {"gpt-5", "claude-sonnet-4.5", "gemini-2.5-pro"} <= set(names)
    assert all(names[m]["published_cards"] for m in SEED_MODELS) and names["gpt-5"]["temperature"] is False
    assert listing["prices_from"].startswith("genai-prices ")
    assert main(["papers", "--json"]) == 0
    papers = json.loads(capsys.readouterr().out)
    assert len(papers) >= 24 and {"id", "title", "year", "has_ground_truth"} <= set(papers[0])


def test_console_script_and_fast_help():
    exe = Path(sys.executable).parent / "planner"
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "planner"]
    done = subprocess.run([*cmd, "--help"], capture_output=True, text=True, env={**os.environ})
    assert done.returncode == 0 and "import-cards" in done.stdout
    probe = "import sys, planner.cli.main as c; c.build_parser(); print(sorted(m for m in ('openai','anthropic') if m in sys.modules))"
    assert subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True).stdout.strip() == "[]"


def test_run_refreshes_the_index_and_site(provider_env, tmp_path):
    provider_env.push(Reply.json(plan_obj(5)), Reply.json(plan_obj(5)))
    out = tmp_path / "out"
    assert main(["run", "--paper", "simsiam", "--model", "gpt-4o", "--out", str(out)]) == 0
    assert main(["run", "--paper", "smm", "--model", "claude-35-sonnet", "--out", str(out)]) == 0
    index = (out / "trajectories.md").read_text(encoding="utf-8")
    assert "| paper | claude-3.5-sonnet | gpt-4o |" in index and "lm-planner/claude-35-sonnet/smm.md" in index
    assert "claude-3.5-sonnet" in (out / "site" / "index.html").read_text(encoding="utf-8")


def test_suggestions_name_each_model_once(capsys, tmp_path):
    assert main(["run", "--paper", "simsiam", "--model", "cluade-35-sonnet", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    hint = err.split("did you mean ", 1)[1].split("?")[0].split(", ")
    assert hint[0] == "claude-3.5-sonnet" and len(hint) == len(set(hint))


def test_a_retired_model_says_so_and_names_a_successor(provider_env, tmp_path, capsys):
    provider_env.push(Reply.status(404, "model: claude-3-5-sonnet-20241022"))
    assert main(["run", "--paper", "simsiam", "--model", "claude-3.5-sonnet", "--out", str(tmp_path / "o")]) == 1
    err = capsys.readouterr().err
    assert "retired by Anthropic on 2025-10-28" in err and "claude-sonnet-5.5" in err


def test_a_closed_pipe_ends_output_quietly(tmp_path):
    done = subprocess.run(f"'{sys.executable}' -m planner papers | head -2", shell=True, capture_output=True,
                          text=True, cwd=Path(__file__).parents[2], env={**os.environ})
    assert done.returncode == 0 and len(done.stdout.splitlines()) == 2
    assert done.stderr == ""


def test_a_small_context_window_shortens_the_paper(monkeypatch, capsys, caplog):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    argv = ["run", "--paper", "simsiam", "--model", "compatible:m", "--base-url", "http://127.0.0.1:9/v1",
            "--dry-run", "--max-tokens", "600"]
    assert main([*argv, "--context-window", "2048"]) == 0
    short = json.loads(capsys.readouterr().out)
    assert main(argv) == 0
    full = json.loads(capsys.readouterr().out)
    assert "[... truncated by planner:" in short["messages"][1]["content"]
    assert len(json.dumps(short)) // 4 + 600 < 2048 < len(json.dumps(full)) // 4 + 600
    assert main([*argv, "--context-window", "1200"]) == 2
    assert "leaves no room for the paper" in capsys.readouterr().err


def test_papers_json_counts_ground_truth_and_its_evidence(capsys):
    assert main(["papers", "--json"]) == 0
    rows = {r["id"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["simsiam"]["ground_truth"] == 15 and rows["simsiam"]["ground_truth_from_paper"] == 15
    assert rows["dad-3dheads"]["ground_truth"] == 0 and not rows["dad-3dheads"]["has_ground_truth"]
    assert rows["storm"]["ground_truth_from_paper"] == 0 < rows["storm"]["ground_truth"]
