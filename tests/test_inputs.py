"""Reading a user's files (planner.inputs): only regular files, within a size cap, and never through a link
out of an input folder; a FIFO does not hang a command and a device does not fill its memory."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from planner.cli.main import main

ROOT = Path(__file__).parents[1]
SEEDS = ROOT / "seeds"


def _planner(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    """The command in its own process, so a read that hangs fails the test instead of stopping the suite."""
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    return subprocess.run([sys.executable, "-m", "planner", *args], env={**env, "PYTHONPATH": str(ROOT)}, cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout)


@pytest.mark.parametrize("kind", ["fifo", "device"])
@pytest.mark.parametrize("command", ["import-cards", "run --paper", "batch --papers-file"])
def test_a_fifo_or_a_device_is_refused_at_once(tmp_path: Path, kind, command):
    source = tmp_path / "paper.md"
    if kind == "fifo":
        os.mkfifo(source)
    else:
        source.symlink_to("/dev/zero")
    out = str(tmp_path / "out")
    args = {"import-cards": ["import-cards", str(source), "--out", out],
            "run --paper": ["run", "--paper", str(source), "--model", "gpt-4o", "--dry-run"],
            "batch --papers-file": ["batch", "--papers-file", str(source), "--models", "gpt-4o", "--out", out]}
    done = _planner(*args[command])
    assert done.returncode == (1 if command == "import-cards" else 2), done.stderr
    assert "not a regular file" in done.stderr and "Traceback" not in done.stderr and "MemoryError" not in done.stderr


def _card(reasoning: str, which: int) -> str:
    seed = [p for p in sorted(SEEDS.iterdir()) if p.is_file()][which]
    from planner.cards.card import read_card_file, write_card

    t = read_card_file(seed)
    t.plan.reasoning = reasoning
    return write_card(t)


@pytest.mark.parametrize("size, message", [(200_000, "the reasoning holds 200,000 characters"),
                                           (1_500_000, "larger than 1 MB")])
def test_an_imported_card_may_hold_only_so_much(tmp_path: Path, capsys, size, message):
    cards = tmp_path / "cards"
    cards.mkdir()
    (cards / "huge.md").write_text(_card("x" * size, 0), encoding="utf-8")
    (cards / "fine.md").write_text(_card("A short reasoning.", 1), encoding="utf-8")
    assert main(["import-cards", str(cards), "--out", str(tmp_path / "out")]) == 1
    captured = capsys.readouterr()
    assert "imported 1 card(s)" in captured.out and "1 failed" in captured.out
    assert message in captured.err and "x" * 100 not in captured.err
