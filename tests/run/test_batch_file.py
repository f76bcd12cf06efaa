"""`--via batch-file`: request files for vLLM's run-batch out, its result files in (any order),
and the next round's file when repairs are needed."""

from __future__ import annotations

import json
import random
from pathlib import Path

from conftest import plan_obj

from planner.cards.card import read_card_file
from planner.cards.store import load_trajectory
from planner.cli.main import main


def run_batch_like_vllm(requests: Path, results: Path, answer, shuffle: bool = True) -> None:
    """What `vllm run-batch -i requests -o results` writes: one line per request, failures inline."""
    lines = [json.loads(x) for x in requests.read_text(encoding="utf-8").splitlines()]
    if shuffle:
        random.Random(7).shuffle(lines)
    rows = []
    for i, line in enumerate(lines):
        assert line["method"] == "POST" and line["url"] == "/v1/chat/completions"
        content = answer(line)
        if content is None:
            rows.append({"id": f"vllm-{i}", "custom_id": line["custom_id"], "response": None,
                         "error": {"message": "engine error"}})
            continue
        body = {"id": f"cmpl-{i}", "object": "chat.completion", "model": line["body"]["model"],
                "choices": [{"index": 0, "message": {"role": "assistant", "content": content},
                             "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 50, "completion_tokens": 20, "total_tokens": 70}}
        rows.append({"id": f"vllm-{i}", "custom_id": line["custom_id"],
                     "response": {"status_code": 200, "request_id": f"r{i}", "body": body}, "error": None})
    results.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


def batch(out: Path, *extra: str) -> int:
    return main(["batch", "--papers", "simsiam,smm,dit", "--models", "compatible:qwen2.5-7b", "--via", "batch-file",
                 "--out", str(out), *extra])


def test_emit_collect_and_a_second_round_for_repairs(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    out, round1, results1 = tmp_path / "out", tmp_path / "round1.jsonl", tmp_path / "results1.jsonl"
    assert batch(out, "--emit", str(round1)) == 0
    assert len(round1.read_text(encoding="utf-8").splitlines()) == 3
    assert "3 job(s) wait for batch answers" in capsys.readouterr().out

    def first(line: dict) -> str | None:
        user = line["body"]["messages"][1]["content"]
        if "Scalable Diffusion" in user:
            return None  # an engine error: asked again next round
        return json.dumps(plan_obj(4 if "Sample-specific" in user else 5))  # smm gets a repair turn

    run_batch_like_vllm(round1, results1, first)
    round2, results2 = tmp_path / "round2.jsonl", tmp_path / "results2.jsonl"
    assert batch(out, "--collect", str(results1), "--emit", str(round2)) == 0
    assert [c.stem for c in sorted(out.glob("lm-planner/*/*.md"))] == ["simsiam"]
    second = [json.loads(x) for x in round2.read_text(encoding="utf-8").splitlines()]
    assert len(second) == 2
    repair = next(line for line in second if len(line["body"]["messages"]) == 4)
    assert "expected exactly 5 ablations, got 4" in repair["body"]["messages"][-1]["content"]

    run_batch_like_vllm(round2, results2, lambda line: json.dumps(plan_obj(5)))
    assert batch(out, "--collect", str(results2)) == 0
    assert sorted(c.stem for c in out.glob("lm-planner/*/*.md")) == ["dit", "simsiam", "smm"]
    assert len(read_card_file(out / "lm-planner/qwen25-7b/smm.md").plan.ablations) == 5
    t = load_trajectory(out / "lm-planner/qwen25-7b/smm.json")
    assert t.provenance.repairs == 1 and t.provenance.via == "batch-file" and t.provenance.cost_usd is None


def test_a_second_round_without_emit_says_what_to_do(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    out, requests, results = tmp_path / "out", tmp_path / "r.jsonl", tmp_path / "res.jsonl"
    assert batch(out, "--emit", str(requests)) == 0
    run_batch_like_vllm(requests, results, lambda line: json.dumps(plan_obj(3)))
    assert batch(out, "--collect", str(results)) == 2
    assert "add --emit FILE.jsonl" in capsys.readouterr().err


def test_batch_file_needs_its_files_and_one_model(tmp_path, capsys):
    out = tmp_path / "out"
    assert batch(out) == 2
    assert main(["batch", "--papers", "simsiam", "--models", "compatible:a,compatible:b", "--via", "batch-file",
                 "--emit", str(tmp_path / "x.jsonl"), "--out", str(out)]) == 2
    mine = tmp_path / "mine.jsonl"
    mine.write_text("my own data\n", encoding="utf-8")
    assert batch(out, "--emit", str(mine)) == 2
    assert mine.read_text(encoding="utf-8") == "my own data\n"
    err = capsys.readouterr().err
    assert "--emit FILE" in err and "one model" in err and "not written by planner" in err


def test_a_partial_collect_without_emit_writes_what_finished_then_says_what_is_left(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    out, requests, results = tmp_path / "out", tmp_path / "r.jsonl", tmp_path / "res.jsonl"
    assert batch(out, "--emit", str(requests)) == 0
    run_batch_like_vllm(requests, results, lambda line: json.dumps(
        plan_obj(5 if "SimSiam" in line["body"]["messages"][1]["content"] else 3)))
    capsys.readouterr()
    assert batch(out, "--collect", str(results)) == 2
    assert [c.stem for c in sorted(out.glob("lm-planner/*/*.md"))] == ["simsiam"]
    err = capsys.readouterr().err
    assert err.strip().splitlines()[-1].endswith("add --emit FILE.jsonl to write them for vLLM's run-batch")
    second = tmp_path / "second.jsonl"
    assert batch(out, "--collect", str(results), "--emit", str(second)) == 0  # the same results, then round 2
    assert len(second.read_text(encoding="utf-8").splitlines()) == 2


def test_emit_names_the_same_file_however_it_is_written(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    out, results = tmp_path / "out", tmp_path / "res.jsonl"
    assert batch(out, "--emit", "round.jsonl") == 0
    run_batch_like_vllm(tmp_path / "round.jsonl", results, lambda line: json.dumps(plan_obj(3)))
    assert batch(out, "--collect", str(results), "--emit", str(tmp_path / "round.jsonl")) == 0  # absolute now
    assert len((tmp_path / "round.jsonl").read_text(encoding="utf-8").splitlines()) == 3  # the repair round


def test_collect_reads_only_a_regular_file(tmp_path, monkeypatch):
    import os
    import subprocess
    import sys

    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    out, requests, fifo = tmp_path / "out", tmp_path / "r.jsonl", tmp_path / "results.jsonl"
    assert batch(out, "--emit", str(requests)) == 0
    os.mkfifo(fifo)
    root = Path(__file__).parents[2]
    done = subprocess.run([sys.executable, "-m", "planner", "batch", "--papers", "simsiam,smm,dit", "--models",
                           "compatible:qwen2.5-7b", "--via", "batch-file", "--out", str(out), "--collect", str(fifo)],
                          env={**os.environ, "PYTHONPATH": str(root)}, cwd=root, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 2 and "not a regular file" in done.stderr and "Traceback" not in done.stderr


def test_a_large_results_file_is_streamed_and_its_odd_lines_summarised(tmp_path, caplog, monkeypatch):
    import logging
    import tracemalloc

    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    out, requests, results = tmp_path / "out", tmp_path / "r.jsonl", tmp_path / "res.jsonl"
    assert batch(out, "--emit", str(requests)) == 0
    run_batch_like_vllm(requests, results, lambda line: json.dumps(plan_obj(5)))
    foreign = json.dumps({"custom_id": "r-another-round", "response": {"status_code": 200, "body": {
        "choices": [{"message": {"content": "z" * 3000}}]}}})
    odd = json.dumps({"custom_id": ["not", "a", "string"], "response": None, "error": {"message": "x"}})
    with results.open("a", encoding="utf-8") as fh:
        for _ in range(5_000):
            fh.write(foreign + "\n" + odd + "\n")
    assert results.stat().st_size > 15_000_000
    tracemalloc.start()
    try:
        with caplog.at_level(logging.WARNING):
            assert batch(out, "--collect", str(results)) == 0
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert len(list(out.glob("lm-planner/*/*.md"))) == 3
    assert peak < 10_000_000, f"{peak:,} bytes held while reading a {results.stat().st_size:,}-byte file"
    warned = [r.getMessage() for r in caplog.records if "passed over" in r.getMessage()]
    assert len(warned) == 6 and "4995 more such lines" in warned[-1]
