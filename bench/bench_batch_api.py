"""`--via batch-api` against `--via sync` on every library paper x 2 models (gpt-4o, claude-3.5-sonnet):
HTTP requests sent, batch rounds, and what the answers cost. One answer in ten breaks the rules the
first time, so repairs are part of the work. Target: the batch engines cost at most 0.55x of sync."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import ROOT, report
from _servers import fake_provider

MODELS = "gpt-4o,claude-3.5-sonnet"


def _answer(request):  # type: ignore[no-untyped-def]
    """Valid plans, except that one first answer in ten has four ablations (a repair turn follows)."""
    from conftest import plan_obj
    from fakeserver import Reply

    body = json.dumps(request.body, sort_keys=True)
    first_turn = body.count('"role": "assistant"') == 0
    unlucky = int(hashlib.sha256(body.encode()).hexdigest(), 16) % 10 == 0
    return Reply.json(plan_obj(4 if first_turn and unlucky else 5), input_tokens=4000, output_tokens=700)


def _run(via: str, urls: tuple[str, str]) -> tuple[float, str]:
    env = {**os.environ, "OPENAI_API_KEY": "bench-key", "ANTHROPIC_API_KEY": "bench-key", "OPENAI_BASE_URL": urls[0],
           "ANTHROPIC_BASE_URL": urls[1], "PYTHONPATH": str(ROOT)}
    with tempfile.TemporaryDirectory() as tmp:
        started = time.monotonic()
        done = subprocess.run([sys.executable, "-m", "planner", "batch", "--all", "--models", MODELS, "--via", via,
                               "--poll-interval", "0.05", "--concurrency", "8", "--out", str(Path(tmp) / "o")],
                              env=env, capture_output=True, text=True, cwd=ROOT)
        wall = time.monotonic() - started
    if done.returncode:
        raise SystemExit(f"{via} failed: {done.stderr[-2000:]}")
    return wall, done.stdout


def _cost(stdout: str) -> tuple[float, float]:
    row = next(line for line in stdout.splitlines() if line.startswith("│"))
    cells = [c.strip() for c in row.strip("│").split("│")]
    return float(cells[6]), float(cells[7])  # cost, without batch discount


def main() -> None:
    results = {}
    for via in ("sync", "batch-api"):
        with fake_provider(_answer) as (urls, counts):
            wall, stdout = _run(via, urls)
            time.sleep(0.2)
            results[via] = (dict(counts), wall, _cost(stdout))
    papers = len(list((ROOT / "papers").glob("*.md")))
    print(f"{papers} papers x 2 models = {2 * papers} jobs")
    print("| via | HTTP requests | batches | requests in batches | cost (USD) | at list price (USD) |")
    print("|---|---:|---:|---:|---:|---:|")
    for via, (counts, _wall, (cost, listed)) in results.items():
        print(f"| {via} | {counts['requests']} | {counts['batches']} | {counts['lines']} | {cost:.4f} | {listed:.4f} |")
    report("batch-api cost / sync cost", results["batch-api"][2][0] / results["sync"][2][0], 0.55, "x")


if __name__ == "__main__":
    main()
