"""One run against a real OpenAI-compatible server: llama-cpp-python serving SmolLM2-135M.

The model is tiny and often breaks the schema, so this asserts the path, not the wisdom:
the server takes our schema, the answer comes back through the openai SDK, and the run
ends in a valid plan or in a recorded validation failure, identically on a second run.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from llamacpp import llamacpp_server, missing_requirements

from planner.cards.card import read_card_file
from planner.cli.main import main

REASON = missing_requirements()
if REASON and os.environ.get("CI"):
    raise RuntimeError(f"CI must install the local extra: {REASON}")
pytestmark = pytest.mark.skipif(REASON is not None, reason=REASON or "")


def _run(out: Path, base_url: str) -> int:
    return main([
        "run", "--paper", "simsiam", "--model", "compatible:smollm2", "--base-url", base_url,
        "--temperature", "0", "--seed", "7", "--max-tokens", "600", "--max-repairs", "1",
        "--timeout", "300", "--no-cache", "--out", str(out),
    ])


def _outcome(out: Path) -> str:
    card = out / "lm-planner" / "smollm2" / "simsiam.md"
    if card.is_file():
        return card.read_text(encoding="utf-8")
    failures = (out / "failures.jsonl").read_text(encoding="utf-8").splitlines()
    return json.dumps(json.loads(failures[-1])["errors"])


def test_smollm2_through_llama_cpp_server(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    outcomes = []
    for name in ("a", "b"):  # a fresh server each time: its prompt cache must not make the two runs differ
        with llamacpp_server() as base_url:
            outcomes.append(_run(tmp_path / name, base_url))
    first, second = outcomes
    captured = capsys.readouterr()
    print(captured.out, captured.err)
    assert "Traceback" not in captured.err
    assert first in (0, 1) and first == second
    assert "refused json_schema output; trying json_object" in captured.err
    if first == 0:
        t = read_card_file(tmp_path / "a" / "lm-planner" / "smollm2" / "simsiam.md")
        assert len(t.plan.ablations) == 5 and not t.provenance.warnings
    else:
        errors = json.loads(_outcome(tmp_path / "a"))
        assert errors and all(isinstance(e, str) and e for e in errors)
    assert _outcome(tmp_path / "a") == _outcome(tmp_path / "b")  # deterministic: same outcome both runs
